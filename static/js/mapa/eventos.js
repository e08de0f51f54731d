// The live event stream (/ws/eventos/). Resumes with `desde` after any drop, so nothing is missed;
// answers pings; on `resync` (the gap is too old) asks the page to reload its snapshot.

export class Conexion {
  constructor({ desde, alEvento, alResync, alEstado }) {
    this.ultimo = desde;
    this.alEvento = alEvento;
    this.alResync = alResync;
    this.alEstado = alEstado;
    this.intentos = 0;
    this.vistos = new Set();
    this.ws = null;
    this.cerrada = false;
  }

  abrir() {
    const proto = location.protocol === "https:" ? "wss" : "ws";
    const url = `${proto}://${location.host}/ws/eventos/?desde=${this.ultimo}`;
    this.alEstado(this.intentos ? "reconectando" : "conectando");
    const ws = new WebSocket(url);
    this.ws = ws;
    ws.onopen = () => {
      this.intentos = 0;
      this.alEstado("en_vivo");
    };
    ws.onmessage = (m) => this.recibir(JSON.parse(m.data));
    ws.onclose = (e) => {
      if (this.cerrada) return;
      if (e.code === 4401) {
        window.location.assign(`/login/?next=${encodeURIComponent(location.pathname)}`);
        return;
      }
      this.alEstado(this.intentos > 2 ? "caida" : "reconectando");
      // Backoff with jitter: a restarted server is not stormed by every open map at once.
      const espera = Math.min(15000, 500 * 2 ** this.intentos) * (0.5 + Math.random() / 2);
      this.intentos += 1;
      setTimeout(() => this.abrir(), espera);
    };
  }

  recibir(f) {
    if (f.tipo === "ping") {
      this.ws.send(JSON.stringify({ tipo: "pong" }));
      return;
    }
    if (f.tipo === "hola") return;
    if (f.tipo === "resync") {
      this.alResync();
      return;
    }
    if (f.id === undefined || this.vistos.has(f.id)) return; // replay overlaps live: drop repeats
    this.vistos.add(f.id);
    if (this.vistos.size > 20000) this.vistos = new Set([...this.vistos].slice(-10000));
    if (f.id > this.ultimo) this.ultimo = f.id;
    this.alEvento(f);
  }

  reiniciar(desde) {
    // After a snapshot reload: continue from its cursor.
    this.ultimo = desde;
    if (this.ws) this.ws.close();
  }
}
