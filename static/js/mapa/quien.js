// "¿Quién estaba dónde?": every efectivo of a unidad (or seen inside the current view) over a
// time window, on one slider. Each efectivo is drawn where it was at the slider's moment (its
// last reading at or before it), with its track so far faded behind it.
import { pedir, detalleTexto, escapar, fechaHora, leerFechaHora, paraEscribir } from "./api.js";

const vacia = () => ({ type: "FeatureCollection", features: [] });

export class Quien {
  constructor({ map, config, avisar, abrir }) {
    this.map = map;
    this.config = config;
    this.avisar = avisar;
    this.abrir = abrir; // opens the side panel with this HTML
    this.datos = null;
    this.instalado = false;
  }

  instalar() {
    if (this.instalado) return;
    const m = this.map;
    m.addSource("quien-trazos", { type: "geojson", data: vacia() });
    m.addSource("quien-puntos", { type: "geojson", data: vacia() });
    m.addLayer({ id: "quien-trazos", type: "line", source: "quien-trazos", paint: { "line-color": "#a371f7", "line-width": 2, "line-opacity": 0.45 } });
    m.addLayer({
      id: "quien-puntos",
      type: "circle",
      source: "quien-puntos",
      paint: { "circle-radius": 6, "circle-color": "#a371f7", "circle-stroke-color": "#ffffff", "circle-stroke-width": 1.5 },
    });
    m.addLayer({
      id: "quien-codigos",
      type: "symbol",
      source: "quien-puntos",
      layout: { "text-field": ["get", "codigo"], "text-font": ["Noto Sans Regular"], "text-size": 11, "text-offset": [0, 1.1], "text-anchor": "top" },
      paint: { "text-color": "#1f2328", "text-halo-color": "#ffffff", "text-halo-width": 1.5 },
    });
    this.instalado = true;
  }

  formulario() {
    const ahora = Date.now();
    const unidades = this.config.unidades;
    this.abrir(`
      <h3>¿Quién estaba dónde?</h3>
      <form id="form-quien">
        <label for="q-unidad">Unidad</label>
        <select id="q-unidad"><option value="">${unidades.length > 1 ? "Todas" : escapar(unidades[0]?.codigo || "")}</option>
          ${unidades.length > 1 ? unidades.map((u) => `<option value="${u.id}">${escapar(u.codigo)} · ${escapar(u.nombre)}</option>`).join("") : ""}</select>
        <label><input type="checkbox" id="q-area"> Solo quienes pasaron por la zona visible</label>
        <label for="q-desde">Desde (dd/mm/aaaa hh:mm)</label><input id="q-desde" inputmode="numeric" value="${paraEscribir(ahora - 3600e3)}">
        <label for="q-hasta">Hasta</label><input id="q-hasta" inputmode="numeric" value="${paraEscribir(ahora)}">
        <div class="enviar"><button type="submit" class="boton">Ver</button></div>
      </form>
      <div id="q-control" hidden>
        <input type="range" id="q-tiempo" min="0" max="1000" value="1000" aria-label="Momento">
        <div><button type="button" class="boton secundario" id="q-play">▶ Reproducir</button> <span id="q-hora" class="tenue"></span></div>
      </div>`);
    document.getElementById("form-quien").addEventListener("submit", (ev) => {
      ev.preventDefault();
      this.cargar();
    });
  }

  async cargar() {
    // Typed in the agency's zone, 24 h; sent as instants (UTC), so the server reads the same moment.
    const desde = leerFechaHora(document.getElementById("q-desde").value);
    const hasta = leerFechaHora(document.getElementById("q-hasta").value);
    if (Number.isNaN(desde) || Number.isNaN(hasta)) {
      this.avisar("Fecha y hora como dd/mm/aaaa hh:mm (24 h).");
      return;
    }
    const q = new URLSearchParams({ desde: new Date(desde).toISOString(), hasta: new Date(hasta).toISOString() });
    const unidad = document.getElementById("q-unidad").value;
    if (unidad) q.set("unidad", unidad);
    if (document.getElementById("q-area").checked) q.set("bbox", this.map.getBounds().toArray().flat().join(","));
    try {
      this.datos = await pedir(`/api/v1/efectivos/recorridos/?${q}`, { motivo: "quien" });
    } catch (err) {
      this.avisar(detalleTexto(err));
      return;
    }
    this.instalar();
    this.desde = Date.parse(this.datos.desde);
    this.hasta = Date.parse(this.datos.hasta);
    for (const e of this.datos.efectivos) e.tiempos = e.puntos.map((p) => Date.parse(p[2]));
    document.getElementById("q-control").hidden = false;
    const slider = document.getElementById("q-tiempo");
    slider.value = slider.max;
    slider.oninput = () => this.mostrar(Number(slider.value) / 1000);
    document.getElementById("q-play").onclick = () => this.reproducir();
    this.mostrar(1);
  }

  mostrar(fraccion) {
    const t = this.desde + (this.hasta - this.desde) * fraccion;
    const puntos = [];
    const trazos = [];
    for (const e of this.datos.efectivos) {
      let i = -1;
      for (let k = 0; k < e.tiempos.length && e.tiempos[k] <= t; k += 1) i = k;
      if (i < 0) continue;
      const hasta = e.puntos.slice(0, i + 1).map((p) => [p[0], p[1]]);
      puntos.push({ type: "Feature", geometry: { type: "Point", coordinates: hasta[i] }, properties: { id: e.id, codigo: e.codigo } });
      if (hasta.length > 1) trazos.push({ type: "Feature", geometry: { type: "LineString", coordinates: hasta }, properties: {} });
    }
    this.map.getSource("quien-puntos").setData({ type: "FeatureCollection", features: puntos });
    this.map.getSource("quien-trazos").setData({ type: "FeatureCollection", features: trazos });
    const extra = this.datos.truncado ? " (se muestran los primeros 300)" : "";
    document.getElementById("q-hora").textContent = `${fechaHora(t)} · ${puntos.length} de ${this.datos.efectivos.length} efectivos${extra}`;
    this.visibles = puntos.length;
  }

  reproducir() {
    const slider = document.getElementById("q-tiempo");
    if (this.animacion) {
      clearInterval(this.animacion);
      this.animacion = null;
      document.getElementById("q-play").textContent = "▶ Reproducir";
      return;
    }
    if (Number(slider.value) >= 1000) slider.value = "0";
    document.getElementById("q-play").textContent = "❚❚ Pausa";
    this.animacion = setInterval(() => {
      const v = Math.min(1000, Number(slider.value) + 4);
      slider.value = String(v);
      this.mostrar(v / 1000);
      if (v >= 1000) this.reproducir();
    }, 50);
  }

  limpiar() {
    if (!this.instalado) return;
    if (this.animacion) this.reproducir();
    this.map.getSource("quien-puntos").setData(vacia());
    this.map.getSource("quien-trazos").setData(vacia());
  }
}
