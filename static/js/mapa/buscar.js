// The map's search box: efectivos by name or code, tasks by code or title, geocercas by name
// (within the commander's scope), and the street extract's streets, places and intersections
// ("Av. de Mayo y Perú") (/mapa/datos/buscar/). Choosing a result flies there and opens it.
import { detalleTexto, escapar, pedir } from "./api.js";

const TIPOS = { efectivo: "Efectivo", tarea: "Tarea", geocerca: "Geocerca", lugar: "Lugar", esquina: "Esquina" };

export class Buscar {
  constructor({ map, acciones }) {
    this.map = map;
    this.acciones = acciones;
    this.entrada = document.getElementById("buscar");
    this.lista = document.getElementById("buscar-resultados");
    this.resultados = [];
    this.elegido = -1;
    this.pedido = 0;
    this.entrada.addEventListener("input", () => {
      clearTimeout(this.espera);
      this.espera = setTimeout(() => this.buscar(), 200);
    });
    this.entrada.addEventListener("keydown", (ev) => this.tecla(ev));
    this.lista.addEventListener("click", (ev) => {
      const li = ev.target.closest("li[data-i]");
      if (li) this.ir(this.resultados[Number(li.dataset.i)]);
    });
    document.addEventListener("click", (ev) => {
      if (!ev.target.closest(".buscar")) this.lista.hidden = true;
    });
  }

  async buscar() {
    const q = this.entrada.value.trim();
    if (q.length < 2) {
      this.lista.hidden = true;
      return;
    }
    const pedido = ++this.pedido;
    let r;
    try {
      r = await pedir(`/mapa/datos/buscar/?q=${encodeURIComponent(q)}`);
    } catch (err) {
      if (pedido === this.pedido) this.mostrar([], detalleTexto(err));
      return;
    }
    if (pedido === this.pedido) this.mostrar(r.resultados); // an older answer arriving late is dropped
  }

  mostrar(resultados, error = "") {
    this.resultados = resultados;
    this.elegido = resultados.length ? 0 : -1;
    this.lista.innerHTML = resultados.length
      ? resultados
          .map(
            (r, i) => `<li role="option" data-i="${i}" data-tipo="${r.tipo}" aria-selected="${i === 0}">
              <span class="tipo">${TIPOS[r.tipo]}</span>${escapar(r.titulo)}
              <span class="meta">${escapar(r.detalle)}${r.lon === null ? " · sin posición" : ""}</span></li>`,
          )
          .join("")
      : `<li class="vacio">${escapar(error || "Nada con ese nombre o código.")}</li>`;
    this.lista.hidden = false;
  }

  tecla(ev) {
    if (ev.key === "Escape") {
      this.lista.hidden = true;
      return;
    }
    if (!this.resultados.length || this.lista.hidden) return;
    if (ev.key === "ArrowDown" || ev.key === "ArrowUp") {
      ev.preventDefault();
      const n = this.resultados.length;
      this.elegido = (this.elegido + (ev.key === "ArrowDown" ? 1 : n - 1)) % n;
      this.lista.querySelectorAll("li[data-i]").forEach((li, i) => li.setAttribute("aria-selected", String(i === this.elegido)));
    } else if (ev.key === "Enter" && this.elegido >= 0) {
      ev.preventDefault();
      this.ir(this.resultados[this.elegido]);
    }
  }

  ir(r) {
    this.lista.hidden = true;
    this.entrada.blur();
    if (r.bbox) this.map.fitBounds([[r.bbox[0], r.bbox[1]], [r.bbox[2], r.bbox[3]]], { padding: 60, maxZoom: 17 });
    else if (r.lon !== null) this.map.flyTo({ center: [r.lon, r.lat], zoom: Math.max(this.map.getZoom(), 16) });
    if (r.tipo === "efectivo") this.acciones.abrirEfectivo(r.id);
    else if (r.tipo === "tarea") this.acciones.abrirTarea(r.id);
  }
}
