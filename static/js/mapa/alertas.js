// The alerts panel: pending geofence alerts, newest first; new ones flash and beep; a click flies
// to the efectivo; "Reconocer" acknowledges through the API, and acknowledgements by any commander
// arrive on the socket and update every open map.
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
    this.tituloBase = document.title;
    this.audio = null;
    // Browsers allow sound only after a user gesture: prepare it on the first click.
    document.addEventListener("click", () => this.prepararSonido(), { once: true });
  }

  async cargar() {
    const datos = await pedir("/api/v1/alertas/?pendientes=true&limit=100");
    this.lista.innerHTML = "";
    this.items.clear();
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
    if (this.items.has(d.alerta_id)) return;
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
    if (nueva) {
      this.sonar(d.severidad);
      this.actualizarContador();
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
    const pendientes = this.lista.querySelectorAll(".alerta:not(.reconocida)").length;
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
