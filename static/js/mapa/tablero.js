// The status board: the efectivos of the commander's scope as a table — code, name, state, time in
// that state, current task, age of the last fix, phone battery — the same rows that draw the
// map's dots (capas.efectivos), searchable by name or code. A click selects the officer on the map.
import { escapar, pedir } from "./api.js";

const MAX_FILAS = 300;

function minutos(ms, ahora) {
  if (!ms) return "—";
  const m = Math.max(0, Math.round((ahora - ms) / 60000));
  return m < 60 ? `${m} min` : `${Math.floor(m / 60)} h ${m % 60} min`;
}

export class Tablero {
  constructor({ capas, config, alSeleccionar }) {
    this.capas = capas;
    this.config = config;
    this.alSeleccionar = alSeleccionar;
    this.seccion = document.getElementById("tablero-seccion");
    this.cuerpo = document.getElementById("tablero-filas");
    this.buscar = document.getElementById("tablero-buscar");
    this.tareas = new Map(); // efectivo id -> {tarea, codigo, titulo}
    document.getElementById("tablero-contador").textContent = String(capas.efectivos.size);
    this.buscar.addEventListener("input", () => this.pintar());
    this.seccion.addEventListener("toggle", () => this.seccion.open && this.cargar());
    this.cuerpo.addEventListener("click", (ev) => {
      const fila = ev.target.closest("tr[data-efectivo]");
      if (fila) this.alSeleccionar(Number(fila.dataset.efectivo));
    });
    setInterval(() => this.seccion.open && this.pintar(), 5000);
  }

  async cargar() {
    const filas = await pedir("/mapa/datos/tareas-actuales/");
    this.tareas = new Map(filas.map((f) => [f.efectivo, f]));
    this.pintar();
  }

  cambio() {
    // Task events change who is on what: reloaded (debounced) while the board is open.
    if (!this.seccion.open) return;
    clearTimeout(this.t);
    this.t = setTimeout(() => this.cargar().catch(() => {}), 500);
  }

  estado(d) {
    // efectivo.estado: the time in state starts now.
    const f = this.capas.efectivos.get(d.efectivo_id);
    if (f) f.properties.estado_desde = Date.now();
  }

  pintar() {
    const ahora = Date.now();
    const q = this.buscar.value.trim().toLowerCase();
    const filas = [...this.capas.efectivos.values()]
      .map((f) => f.properties)
      .filter((p) => !q || p.codigo.toLowerCase().includes(q) || p.nombre.toLowerCase().includes(q))
      .sort((a, b) => a.codigo.localeCompare(b.codigo));
    const baja = this.config.bateriaBaja;
    this.cuerpo.innerHTML = filas
      .slice(0, MAX_FILAS)
      .map((p) => {
        const t = this.tareas.get(p.id);
        const bateria = p.bateria == null ? "—" : `<span class="${p.bateria < baja ? "bateria-baja" : ""}">${Math.round(p.bateria)} %</span>`;
        return `<tr data-efectivo="${p.id}" class="estado-${escapar(p.estado)}">
          <td>${escapar(p.codigo)}</td><td>${escapar(p.nombre)}</td>
          <td>${escapar(this.config.estados[p.estado] || p.estado)}</td><td class="n">${minutos(p.estado_desde, ahora)}</td>
          <td>${t ? escapar(t.codigo) : ""}</td><td class="n">${minutos(p.fix, ahora)}</td><td class="n">${bateria}</td></tr>`;
      })
      .join("");
    document.getElementById("tablero-contador").textContent =
      filas.length > MAX_FILAS ? `${MAX_FILAS} de ${filas.length}` : String(filas.length);
  }
}
