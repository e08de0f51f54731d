// The live event stream (/ws/eventos/). Resumes with `desde` after any drop, so nothing is missed;
// answers pings; on `resync` (the gap is too old or too large to replay) asks the page to reload
// its snapshot *without leaving the socket*: live events keep arriving and are held meanwhile,
// then those newer than the snapshot's cursor are applied. Reconnecting instead would reopen from
// the snapshot's cursor, and at a few thousand events a second the gap would already be too large
// again: a loop that never goes live.
const MAX_RETENIDOS = 200000;

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
    this.retenidos = null; // frames held while the snapshot reloads (null: not resyncing)
    this.resyncs = 0;
  }

  abrir() {
    const proto = location.protocol === "https:" ? "wss" : "ws";
    const url = `${proto}://${location.host}/ws/eventos/?desde=${this.ultimo}`;
    this.alEstado(this.intentos ? "reconectando" : "conectando");
    const ws = new WebSocket(url);
    this.ws = ws;
    ws.onopen = () => {
      this.intentos = 0;
      this.alEstado(this.retenidos ? "sincronizando" : "en_vivo");
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
      if (this.retenidos) return; // already reloading (a drop meanwhile, and the server said it again)
      this.retenidos = [];
      this.resyncs += 1;
      this.alEstado("sincronizando");
      this.alResync();
      return;
    }
    if (f.id === undefined) return;
    if (this.retenidos) {
      this.retenidos.push(f);
      if (this.retenidos.length > MAX_RETENIDOS) this.retenidos.splice(0, MAX_RETENIDOS / 2);
      return;
    }
    this.aplicar(f);
  }

  aplicar(f) {
    if (this.vistos.has(f.id)) return; // replay overlaps live: drop repeats
    this.vistos.add(f.id);
    if (this.vistos.size > 20000) this.vistos = new Set([...this.vistos].slice(-10000));
    if (f.id > this.ultimo) this.ultimo = f.id;
    this.alEvento(f);
  }

  reanudar(desde) {
    // The snapshot is loaded: what it already holds (ids up to its cursor) is dropped, the rest of
    // what arrived meanwhile is applied in order, and the stream is live again.
    const retenidos = this.retenidos || [];
    this.retenidos = null;
    this.ultimo = Math.max(this.ultimo, desde);
    retenidos.sort((a, b) => a.id - b.id);
    for (const f of retenidos) {
      if (f.id > desde) this.aplicar(f);
      else this.vistos.add(f.id);
    }
    if (this.ws && this.ws.readyState === WebSocket.OPEN) this.alEstado("en_vivo");
  }

  reintentarResync() {
    // The snapshot could not be loaded: keep holding frames and ask again shortly.
    setTimeout(() => this.alResync(), 2000);
  }
}
