// The alerts panel: pending geofence alerts, newest first; new ones flash and beep; a click flies
// to the efectivo; "Reconocer" acknowledges through the API, and acknowledgements by any commander
// arrive on the socket and update every open map. The badge is the server's count of pending
// alerts (not the cards loaded). While the pointer is over the list it does not move: new alerts
// wait behind a "N nuevas" bar and are shown when the pointer leaves (or the bar is clicked).
// "Reconocer todas" acknowledges every pending alert up to the newest one on screen.
import { pedir, detalleTexto, escapar } from "./api.js";

const TIPOS = { entrada: "Entrada", salida: "Salida", permanencia: "Permanencia" };
const MAX = 200;

function hora(iso) {
  return new Date(iso).toLocaleTimeString("es-AR", { hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false });
}

export class Alertas {
  constructor({ alSeleccionar, avisar }) {
    this.lista = document.getElementById("alertas");
    this.contador = document.getElementById("alertas-pendientes");
    this.alSeleccionar = alSeleccionar;
    this.avisar = avisar;
    this.items = new Map();
    this.total = 0; // pending alerts in scope, from the server, kept live by the events
    this.reconocidas = new Set();
    this.maxId = 0;
    this.espera = [];
    this.quieta = false;
    this.barra = document.getElementById("alertas-nuevas");
    this.barra.addEventListener("click", () => this.soltar());
    this.lista.addEventListener("mouseenter", () => (this.quieta = true));
    this.lista.addEventListener("mouseleave", () => this.soltar());
    document.getElementById("alertas-todas").addEventListener("click", () => this.reconocerTodas());
    this.tituloBase = document.title;
    this.audio = null;
    // Browsers allow sound only after a user gesture: prepare it on the first click.
    document.addEventListener("click", () => this.prepararSonido(), { once: true });
  }

  async cargar() {
    const datos = await pedir("/api/v1/alertas/?pendientes=true&limit=100");
    this.lista.innerHTML = "";
    this.items.clear();
    this.espera = [];
    this.total = datos.count;
    for (const a of datos.results.slice().reverse()) {
      this.agregar(
        {
          alerta_id: a.id,
          tipo: a.tipo,
          severidad: a.severidad,
          efectivo_id: a.efectivo,
          efectivo: a.efectivo_nombre,
          geocerca: a.geocerca_nombre,
          lat: a.lat,
          lon: a.lon,
          ocurrida_en: a.ocurrida_en,
        },
        false,
      );
    }
    this.actualizarContador();
  }

  agregar(d, nueva = true) {
    if (this.items.has(d.alerta_id) || this.espera.some((e) => e.alerta_id === d.alerta_id)) return;
    this.maxId = Math.max(this.maxId, d.alerta_id);
    if (nueva) {
      this.total += 1;
      this.sonar(d.severidad);
      if (this.quieta) {
        // The commander is about to click a card: do not move it under the pointer.
        this.espera.push(d);
        this.barra.textContent = `${this.espera.length} alerta(s) nueva(s): mostrar`;
        this.barra.hidden = false;
        this.actualizarContador();
        return;
      }
    }
    this.mostrar(d, nueva);
  }

  soltar() {
    this.quieta = false;
    const pendientes = this.espera;
    this.espera = [];
    this.barra.hidden = true;
    for (const d of pendientes) this.mostrar(d, true);
  }

  mostrar(d, nueva) {
    const li = document.createElement("li");
    li.className = "alerta" + (nueva ? " nueva" : "");
    li.dataset.id = d.alerta_id;
    li.dataset.severidad = d.severidad;
    li.innerHTML = `
      <div class="cabeza"><span>${TIPOS[d.tipo] || escapar(d.tipo)} · ${escapar(d.geocerca)}</span><span class="meta">${hora(d.ocurrida_en)}</span></div>
      <div>${escapar(d.efectivo)}</div>
      <button type="button" class="boton secundario reconocer">Reconocer</button>`;
    li.addEventListener("click", (e) => {
      if (e.target.closest(".reconocer")) return;
      this.alSeleccionar(d);
    });
    li.querySelector(".reconocer").addEventListener("click", () => this.reconocer(d.alerta_id, li));
    this.lista.prepend(li);
    this.items.set(d.alerta_id, li);
    while (this.lista.children.length > MAX) {
      const ultimo = this.lista.lastElementChild;
      this.items.delete(Number(ultimo.dataset.id));
      ultimo.remove();
    }
    if (nueva) this.actualizarContador();
  }

  async reconocerTodas() {
    if (!this.total) return;
    if (!window.confirm(`¿Reconocer las ${this.total} alertas pendientes hasta la más reciente a la vista?`)) return;
    try {
      const r = await pedir("/api/v1/alertas/reconocer/", { metodo: "POST", cuerpo: { hasta_id: this.maxId || 1 } });
      for (const id of r.ids) this.reconocida({ alerta_id: id, reconocida_por: "usted" });
      this.avisar(`${r.reconocidas} alertas reconocidas.`, true);
    } catch (err) {
      this.avisar(detalleTexto(err));
    }
  }

  async reconocer(id, li) {
    const boton = li.querySelector(".reconocer");
    boton.disabled = true;
    try {
      const a = await pedir(`/api/v1/alertas/${id}/reconocer/`, { metodo: "POST", cuerpo: {} });
      this.reconocida({ alerta_id: id, reconocida_por: a.reconocida_por });
    } catch (err) {
      if (err.codigo === "alerta_ya_reconocida") {
        this.reconocida({ alerta_id: id, reconocida_por: "otro comandante" });
      } else {
        boton.disabled = false;
        this.avisar(detalleTexto(err));
      }
    }
  }

  reconocida(d) {
    if (!this.reconocidas.has(d.alerta_id)) {
      this.reconocidas.add(d.alerta_id);
      this.total = Math.max(0, this.total - 1);
      this.actualizarContador();
    }
    this.espera = this.espera.filter((e) => e.alerta_id !== d.alerta_id);
    const li = this.items.get(d.alerta_id);
    if (!li || li.classList.contains("reconocida")) return;
    li.classList.add("reconocida");
    li.classList.remove("nueva");
    const boton = li.querySelector(".reconocer");
    const nota = document.createElement("div");
    nota.className = "meta";
    nota.textContent = `Reconocida por ${d.reconocida_por}`;
    boton.replaceWith(nota);
    this.actualizarContador();
  }

  actualizarContador() {
    const pendientes = this.total;
    this.contador.textContent = pendientes;
    this.contador.classList.toggle("activo", pendientes > 0);
    document.title = pendientes ? `(${pendientes}) ${this.tituloBase}` : this.tituloBase;
  }

  prepararSonido() {
    try {
      this.audio = new AudioContext();
    } catch {
      this.audio = null;
    }
  }

  sonar(severidad) {
    if (!this.audio) return;
    const t = this.audio.currentTime;
    const osc = this.audio.createOscillator();
    const gan = this.audio.createGain();
    osc.frequency.value = severidad === "critica" ? 880 : 660;
    gan.gain.setValueAtTime(0.15, t);
    gan.gain.exponentialRampToValueAtTime(0.001, t + 0.4);
    osc.connect(gan).connect(this.audio.destination);
    osc.start(t);
    osc.stop(t + 0.4);
  }
}
