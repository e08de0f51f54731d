// The task queue beside the map: the open tasks of the commander's scope as a list, with what a
// dispatcher watches — priority, state, who, time since created / since dispatched / since
// arrival — short-handed and unanswered ones on top. Sorted and filtered like the alert list; a
// click flies to the task and opens its panel. Reloaded (debounced) on every task event.
import { escapar, pedir } from "./api.js";

const FILTROS = {
  todas: () => true,
  sin_cubrir: (t) => Boolean(t.corta_desde),
  sin_aceptar: (t) => t.asignaciones.some((a) => a.estado === "pendiente"),
  en_curso: (t) => t.estado === "en_curso" || t.estado === "pausada",
};

function hace(iso, ahora) {
  if (!iso) return "—";
  const min = Math.max(0, Math.round((ahora - Date.parse(iso)) / 60000));
  return min < 60 ? `${min} min` : `${Math.floor(min / 60)} h ${min % 60} min`;
}

export class ColaTareas {
  constructor({ config, alSeleccionar }) {
    this.config = config;
    this.alSeleccionar = alSeleccionar;
    this.lista = document.getElementById("tareas-cola");
    this.contador = document.getElementById("tareas-contador");
    this.orden = document.getElementById("tareas-orden");
    this.filtro = document.getElementById("tareas-filtro");
    this.tareas = [];
    this.orden.addEventListener("change", () => this.pintar());
    this.filtro.addEventListener("change", () => this.pintar());
    setInterval(() => this.pintar(), 30000); // the timers move
  }

  async cargar() {
    const datos = await pedir("/api/v1/tareas/?abiertas=true&limit=200");
    this.tareas = datos.results;
    this.pintar();
  }

  cambio() {
    // Many task events can come in a burst (a dispatch is several): one reload for all of them.
    clearTimeout(this.t);
    this.t = setTimeout(() => this.cargar().catch(() => {}), 400);
  }

  urgencia(t) {
    // Short-handed first, then waiting on an answer, then by priority.
    return (t.corta_desde ? 0 : 2) + (t.asignaciones.some((a) => a.estado === "pendiente") ? 0 : 1);
  }

  pintar() {
    const ahora = Date.now();
    const filtrar = FILTROS[this.filtro.value] || FILTROS.todas;
    const lista = this.tareas.filter(filtrar);
    lista.sort((a, b) =>
      this.orden.value === "antiguedad"
        ? Date.parse(a.creada_en) - Date.parse(b.creada_en)
        : this.urgencia(a) - this.urgencia(b) || b.prioridad - a.prioridad || Date.parse(a.creada_en) - Date.parse(b.creada_en),
    );
    this.lista.innerHTML = lista
      .map((t) => {
        const vivas = t.asignaciones.filter((a) => ["pendiente", "aceptada"].includes(a.estado));
        const despacho = vivas.map((a) => a.asignada_en).sort()[0];
        const llegada = vivas.map((a) => a.llegada_en).filter(Boolean).sort()[0];
        const quien = vivas.map((a) => `${escapar(a.efectivo_nombre)}${a.estado === "pendiente" ? " (sin aceptar)" : ""}`).join(", ");
        return `<li class="tarea-cola prioridad-${t.prioridad} ${t.corta_desde ? "sin-cubrir" : ""}" data-tarea="${t.id}">
          <div class="cabeza"><strong>${escapar(t.codigo)}</strong> ${escapar(t.titulo)}</div>
          <div class="meta">${escapar(this.config.prioridades[t.prioridad] || t.prioridad)} · ${escapar(this.config.estadosTarea[t.estado] || t.estado)}${t.corta_desde ? " · <b>sin cubrir</b>" : ""}</div>
          <div class="meta">${quien || "nadie asignado"}</div>
          <div class="meta tiempos">creada hace ${hace(t.creada_en, ahora)} · despacho ${hace(despacho, ahora)} · llegada ${hace(llegada, ahora)}</div>
        </li>`;
      })
      .join("");
    this.lista.querySelectorAll("li").forEach((li) => li.addEventListener("click", () => this.alSeleccionar(Number(li.dataset.tarea))));
    this.contador.textContent = lista.length;
    this.contador.classList.toggle("activo", lista.some((t) => t.corta_desde));
  }
}
