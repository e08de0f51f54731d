// Sources and layers of the map, and the live stores behind the GeoJSON ones. Efectivos and
// tasks come from the snapshot and move with socket events; geocercas and the density layer are
// vector tiles from /tiles/ (versioned: an edited geocerca reloads its tiles).

export const COLORES_ESTADO = {
  disponible: "#2ea043",
  en_tarea: "#2f81f7",
  no_disponible: "#d29922",
  fuera_servicio: "#8b949e",
};
export const COLORES_PRIORIDAD = { 1: "#8b949e", 2: "#58a6ff", 3: "#d29922", 4: "#f0883e", 5: "#f85149" };
export const GRADIENTE_DENSIDAD = [
  "interpolate",
  ["linear"],
  ["heatmap-density"],
  0,
  "rgba(33,102,172,0)",
  0.2,
  "#67a9cf",
  0.45,
  "#d1e5f0",
  0.65,
  "#fddbc7",
  0.85,
  "#ef8a62",
  1,
  "#b2182b",
];
export const COLORES_GEOCERCA = { restringida: "#f85149", perimetro: "#2f81f7", control: "#d29922", corredor: "#3fb950" };

const GRUPOS = {
  efectivos: ["efectivos", "efectivos-bateria", "efectivos-codigo"],
  tareas: ["tareas", "tareas-codigo"],
  geocercas: ["geocercas-relleno", "geocercas-borde", "geocercas-fuera-relleno", "geocercas-fuera-borde", "geocercas-nombre"],
  densidad: ["densidad"],
  jurisdicciones: ["jurisdicciones"],
};

function coincidir(prop, colores, defecto) {
  const expr = ["match", ["to-string", ["get", prop]]];
  for (const [k, v] of Object.entries(colores)) expr.push(String(k), v);
  expr.push(defecto);
  return expr;
}

import { FUENTE, FUENTE_NEGRITA } from "./base.js";
import { pedir } from "./api.js";

const DIAS = ["dom", "lun", "mar", "mié", "jue", "vie", "sáb"];
const PARTES_LOCALES = new Intl.DateTimeFormat("en-CA", {
  timeZone: "America/Argentina/Buenos_Aires",
  hourCycle: "h23",
  weekday: "short",
  hour: "2-digit",
  minute: "2-digit",
});
const DIA_EN = { Sun: 0, Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6 };

// "lun 22:00" in the agency's zone, for "fuera de horario · desde lun 22:00".
function cuandoLocal(iso) {
  const p = Object.fromEntries(PARTES_LOCALES.formatToParts(new Date(iso)).map((x) => [x.type, x.value]));
  return `${DIAS[DIA_EN[p.weekday]]} ${p.hour}:${p.minute}`;
}

// Diagonal grey hatching for fences out of their schedule: drawn, not in force.
function rayado() {
  const lado = 8;
  const lienzo = document.createElement("canvas");
  lienzo.width = lienzo.height = lado;
  const c = lienzo.getContext("2d");
  c.strokeStyle = "rgba(110,118,129,0.55)";
  c.lineWidth = 1.5;
  c.beginPath();
  c.moveTo(0, lado);
  c.lineTo(lado, 0);
  c.stroke();
  return c.getImageData(0, 0, lado, lado);
}

const HALO = { "text-halo-color": "#ffffff", "text-halo-width": 1.6 };

const vacia = () => ({ type: "FeatureCollection", features: [] });

// What the efectivos layers draw with, and no more: the source is copied to MapLibre's worker and
// tiled there on every redraw, and the snapshot's other properties (name, rank, unidad, times)
// tripled what crossed for 10,000 efectivos (3.3 MB). The panel reads them from `efectivos` by id.
function delgado(f) {
  const p = f.properties;
  return {
    type: "Feature",
    id: f.id,
    geometry: f.geometry,
    properties: { id: p.id, codigo: p.codigo, estado: p.estado, viejo: p.viejo, bateria: p.bateria },
  };
}

export class Capas {
  constructor(map, config) {
    this.map = map;
    this.config = config;
    this.efectivos = new Map();
    this.tareas = new Map();
    this.sucioEfectivos = false;
    this.sucioTareas = false;
    this.versionGeocercas = 0;
    this.fueraDeHorario = [];
    this.relojVigencias = null;
    this.viejoMs = config.fixViejoMin * 60000;
  }

  instalar(datos) {
    const m = this.map;
    const origen = location.origin;
    m.addSource("jurisdicciones", { type: "geojson", data: datos.jurisdicciones });
    m.addSource("geocercas", {
      type: "vector",
      tiles: [`${origen}/tiles/geocercas/{z}/{x}/{y}.pbf`],
      minzoom: 0,
      maxzoom: 16,
    });
    m.addSource("densidad", {
      type: "vector",
      tiles: [`${origen}/tiles/densidad/{z}/{x}/{y}.pbf`],
      minzoom: 0,
      maxzoom: 14,
    });
    m.addSource("efectivos", { type: "geojson", data: vacia(), promoteId: "id" });
    m.addSource("tareas", { type: "geojson", data: vacia(), promoteId: "id" });
    m.addSource("recorrido", { type: "geojson", data: vacia() });
    m.addSource("recorrido-implausibles", { type: "geojson", data: vacia() });
    m.addSource("seleccion", { type: "geojson", data: vacia() });

    m.addLayer({
      id: "jurisdicciones",
      type: "line",
      source: "jurisdicciones",
      paint: { "line-color": "#57606a", "line-width": 1.5, "line-dasharray": [3, 2] },
    });
    m.addLayer({
      id: "densidad",
      type: "heatmap",
      source: "densidad",
      "source-layer": "densidad",
      layout: { visibility: "none" },
      paint: {
        "heatmap-weight": ["interpolate", ["linear"], ["get", "lecturas"], 0, 0, 50, 1],
        // About 1.5 times the spacing of the view's cells on screen (100 m, merged at low zooms),
        // so neighbouring cells blend into one surface instead of a lattice of dots.
        "heatmap-radius": ["interpolate", ["exponential", 2], ["zoom"], 10, 10, 12, 12, 14, 38, 16, 150],
        "heatmap-intensity": ["interpolate", ["linear"], ["zoom"], 10, 0.6, 15, 1.2],
        "heatmap-color": GRADIENTE_DENSIDAD,
        "heatmap-opacity": 0.75,
      },
    });
    m.addLayer({
      id: "geocercas-relleno",
      type: "fill",
      source: "geocercas",
      "source-layer": "geocercas",
      paint: { "fill-color": coincidir("tipo", COLORES_GEOCERCA, "#888"), "fill-opacity": 0.15 },
    });
    m.addLayer({
      id: "geocercas-borde",
      type: "line",
      source: "geocercas",
      "source-layer": "geocercas",
      paint: { "line-color": coincidir("tipo", COLORES_GEOCERCA, "#888"), "line-width": 1.5 },
    });
    // Out of its schedule (mapa/datos/vigencias): hatched grey with a dashed border, not in force.
    m.addImage("rayado", rayado());
    m.addLayer({
      id: "geocercas-fuera-relleno",
      type: "fill",
      source: "geocercas",
      "source-layer": "geocercas",
      filter: ["in", ["id"], ["literal", []]],
      paint: { "fill-pattern": "rayado" },
    });
    m.addLayer({
      id: "geocercas-fuera-borde",
      type: "line",
      source: "geocercas",
      "source-layer": "geocercas",
      filter: ["in", ["id"], ["literal", []]],
      paint: { "line-color": "#6e7681", "line-width": 1.5, "line-dasharray": [3, 2] },
    });
    m.addLayer({
      id: "recorrido",
      type: "line",
      source: "recorrido",
      paint: { "line-color": "#a371f7", "line-width": 3 },
    });
    // Readings set aside as implausible (an impossible speed): shown, not joined to the track.
    m.addLayer({
      id: "recorrido-implausibles",
      type: "circle",
      source: "recorrido-implausibles",
      paint: {
        "circle-radius": 5,
        "circle-color": "#f85149",
        "circle-stroke-color": "#ffffff",
        "circle-stroke-width": 1.5,
        "circle-opacity": 0.85,
      },
    });
    m.addLayer({
      id: "tareas",
      type: "circle",
      source: "tareas",
      paint: {
        "circle-radius": ["interpolate", ["linear"], ["zoom"], 10, 5, 16, 10],
        "circle-color": "#0d1117",
        "circle-stroke-color": coincidir("prioridad", COLORES_PRIORIDAD, "#888"),
        "circle-stroke-width": ["case", ["==", ["get", "estado"], "programada"], 4, 2.5],
      },
    });
    m.addLayer({
      id: "efectivos",
      type: "circle",
      source: "efectivos",
      paint: {
        "circle-radius": ["interpolate", ["linear"], ["zoom"], 9, 2.5, 13, 5, 17, 9],
        "circle-color": coincidir("estado", COLORES_ESTADO, "#888"),
        "circle-opacity": ["case", ["get", "viejo"], 0.3, 0.95],
        "circle-stroke-color": "#ffffff",
        "circle-stroke-width": ["interpolate", ["linear"], ["zoom"], 11, 0, 14, 1],
        "circle-stroke-opacity": ["case", ["get", "viejo"], 0.3, 0.9],
      },
    });
    // A phone's battery under DISPOSITIVO_BATERIA_BAJA_PCT: a red dot at the marker's upper right.
    m.addLayer({
      id: "efectivos-bateria",
      type: "circle",
      source: "efectivos",
      filter: ["<", ["coalesce", ["get", "bateria"], 101], this.config.bateriaBaja],
      paint: {
        "circle-radius": ["interpolate", ["linear"], ["zoom"], 9, 1.5, 13, 2.5, 17, 4],
        "circle-color": "#e5534b",
        "circle-stroke-color": "#ffffff",
        "circle-stroke-width": 1,
        "circle-translate": [5, -5],
      },
    });
    // Labels: geocerca names from z13, task codes from z14, efectivo codes at street zoom (z15).
    m.addLayer({
      id: "geocercas-nombre",
      type: "symbol",
      source: "geocercas",
      "source-layer": "geocercas_nombres", // one point per fence (mapa.tiles), not per tile it crosses
      minzoom: 13,
      layout: {
        "text-field": ["get", "nombre"],
        "text-font": FUENTE_NEGRITA,
        "text-size": ["interpolate", ["linear"], ["zoom"], 13, 11, 17, 14],
        "text-max-width": 10,
        "symbol-placement": "point",
      },
      paint: { "text-color": coincidir("tipo", COLORES_GEOCERCA, "#555"), ...HALO },
    });
    m.addLayer({
      id: "tareas-codigo",
      type: "symbol",
      source: "tareas",
      minzoom: 14,
      layout: {
        "text-field": ["get", "codigo"],
        "text-font": FUENTE_NEGRITA,
        "text-size": 12,
        "text-offset": [0, 1.3],
        "text-anchor": "top",
      },
      paint: { "text-color": "#1f2328", ...HALO },
    });
    m.addLayer({
      id: "efectivos-codigo",
      type: "symbol",
      source: "efectivos",
      minzoom: 14, // labels that would collide are left out (text-optional), so a crowd stays readable
      layout: {
        "text-field": ["get", "codigo"],
        "text-font": FUENTE,
        "text-size": 11,
        "text-offset": [0, 1.1],
        "text-anchor": "top",
        "text-optional": true,
      },
      paint: { "text-color": "#1f2328", ...HALO, "text-opacity": ["case", ["get", "viejo"], 0.5, 1] },
    });
    // The selection: a dark ring inside a bright one, visible on land, water and any layer colour.
    m.addLayer({
      id: "seleccion-halo",
      type: "circle",
      source: "seleccion",
      paint: { "circle-radius": 15, "circle-color": "rgba(0,0,0,0)", "circle-stroke-color": "#ffd33d", "circle-stroke-width": 5 },
    });
    m.addLayer({
      id: "seleccion",
      type: "circle",
      source: "seleccion",
      paint: { "circle-radius": 11, "circle-color": "rgba(0,0,0,0)", "circle-stroke-color": "#1f2328", "circle-stroke-width": 3 },
    });

    this.cargar(datos);
    // Positions arrive many per second: the sources are redrawn at most every half second, and
    // every 30 s anyway so fixes that went stale fade without any event.
    setInterval(() => this.volcar(false), 500);
    setInterval(() => this.volcar(true), 30000);
  }

  cargar(datos) {
    this.efectivos = new Map(datos.efectivos.features.map((f) => [f.id, f]));
    this.tareas = new Map(datos.tareas.features.map((f) => [f.id, f]));
    this.map.getSource("jurisdicciones").setData(datos.jurisdicciones);
    this.volcar(true);
  }

  volcar(forzar) {
    const ahora = Date.now();
    if (this.sucioEfectivos || forzar) {
      const dibujo = [];
      for (const f of this.efectivos.values()) {
        f.properties.viejo = !f.properties.fix || ahora - f.properties.fix > this.viejoMs;
        dibujo.push(delgado(f));
      }
      this.map.getSource("efectivos").setData({ type: "FeatureCollection", features: dibujo });
      this.sucioEfectivos = false;
      this.alCambiar?.();
    }
    if (this.sucioTareas || forzar) {
      this.map.getSource("tareas").setData({ type: "FeatureCollection", features: [...this.tareas.values()] });
      this.sucioTareas = false;
      this.alCambiar?.();
    }
  }

  // --- socket events --------------------------------------------------------------------------

  posicion(d) {
    const fix = Date.parse(d.registrada_en);
    let f = this.efectivos.get(d.efectivo_id);
    if (!f) {
      f = {
        type: "Feature",
        id: d.efectivo_id,
        geometry: { type: "Point", coordinates: [d.lon, d.lat] },
        properties: { id: d.efectivo_id, codigo: `#${d.efectivo_id}`, nombre: "", estado: d.estado, unidad_id: d.unidad_id, fix },
      };
      this.efectivos.set(d.efectivo_id, f);
    } else if (f.properties.fix && fix <= f.properties.fix) {
      return; // a replayed or late reading: positions only move forward in device time
    }
    f.geometry = { type: "Point", coordinates: [d.lon, d.lat] };
    f.properties.fix = fix;
    f.properties.estado = d.estado;
    f.properties.precision_m = d.precision_m;
    if (d.bateria_pct !== null && d.bateria_pct !== undefined) f.properties.bateria = d.bateria_pct;
    this.sucioEfectivos = true;
  }

  sinPosicion(id) {
    if (this.efectivos.delete(id)) this.sucioEfectivos = true;
  }

  estadoEfectivo(d) {
    const f = this.efectivos.get(d.efectivo_id);
    if (f) {
      f.properties.estado = d.estado;
      this.sucioEfectivos = true;
    }
  }

  tarea(d) {
    const cerrada = d.estado === "finalizada" || d.estado === "cancelada";
    if (cerrada || d.lat === null || d.lat === undefined) {
      this.sucioTareas = this.tareas.delete(d.tarea_id) || this.sucioTareas;
      return;
    }
    this.tareas.set(d.tarea_id, {
      type: "Feature",
      id: d.tarea_id,
      geometry: { type: "Point", coordinates: [d.lon, d.lat] },
      properties: { id: d.tarea_id, codigo: d.codigo, titulo: d.titulo, tipo: d.tipo, prioridad: d.prioridad, estado: d.estado, unidad_id: d.unidad_id },
    });
    this.sucioTareas = true;
  }

  async cargarVigencias() {
    // Which fences are out of their schedule now; asked again when the next one changes (at most
    // every 5 minutes) and whenever a fence is edited.
    clearTimeout(this.relojVigencias);
    let proximo = 5 * 60000;
    try {
      const d = await pedir("/mapa/datos/vigencias/");
      this.fueraDeHorario = d.fuera;
      this.aplicarVigencias();
      if (d.proximo_cambio) proximo = Math.min(proximo, Math.max(1000, Date.parse(d.proximo_cambio) - Date.now() + 1000));
    } catch {
      // Kept as drawn; asked again below.
    }
    this.relojVigencias = setTimeout(() => this.cargarVigencias(), proximo);
  }

  aplicarVigencias() {
    const m = this.map;
    const ids = this.fueraDeHorario.map((f) => f.id);
    const fuera = ["in", ["id"], ["literal", ids]];
    m.setFilter("geocercas-relleno", ["!", fuera]);
    m.setFilter("geocercas-borde", ["!", fuera]);
    m.setFilter("geocercas-fuera-relleno", fuera);
    m.setFilter("geocercas-fuera-borde", fuera);
    let texto = ["get", "nombre"];
    if (ids.length) {
      const leyenda = ["match", ["id"]];
      for (const f of this.fueraDeHorario) leyenda.push(f.id, f.desde ? `fuera de horario · desde ${cuandoLocal(f.desde)}` : "fuera de horario");
      leyenda.push("");
      texto = ["case", fuera, ["concat", ["get", "nombre"], "\n", leyenda], ["get", "nombre"]];
    }
    m.setLayoutProperty("geocercas-nombre", "text-field", texto);
    m.setPaintProperty("geocercas-nombre", "text-color", ["case", fuera, "#6e7681", coincidir("tipo", COLORES_GEOCERCA, "#555")]);
    document.body.dataset.fueraDeHorario = ids.join(","); // what is drawn as not in force, for tests and tools
  }

  geocercasCambiaron() {
    this.cargarVigencias();
    // New URL: MapLibre drops its tiles and asks again; the server's tile keys carry the version.
    this.versionGeocercas += 1;
    this.map.getSource("geocercas").setTiles([`${location.origin}/tiles/geocercas/{z}/{x}/{y}.pbf?v=${this.versionGeocercas}`]);
  }

  refrescarDensidad() {
    if (this.map.getLayoutProperty("densidad", "visibility") === "none") return;
    this.map.getSource("densidad").setTiles([`${location.origin}/tiles/densidad/{z}/{x}/{y}.pbf?t=${Date.now()}`]);
  }

  // --- selection, track -------------------------------------------------------------------------

  seleccionar(lonlat) {
    this.map.getSource("seleccion").setData(
      lonlat ? { type: "Feature", geometry: { type: "Point", coordinates: lonlat }, properties: {} } : vacia(),
    );
  }

  dibujarRecorrido(coordenadas, implausibles = []) {
    this.map.getSource("recorrido").setData(
      coordenadas && coordenadas.length > 1
        ? { type: "Feature", geometry: { type: "LineString", coordinates: coordenadas }, properties: {} }
        : vacia(),
    );
    this.map.getSource("recorrido-implausibles").setData({
      type: "FeatureCollection",
      features: implausibles.map((c) => ({ type: "Feature", geometry: { type: "Point", coordinates: c }, properties: {} })),
    });
  }

  // --- toggles and legend -------------------------------------------------------------------------

  alternar(grupo, visible) {
    for (const id of GRUPOS[grupo] || []) this.map.setLayoutProperty(id, "visibility", visible ? "visible" : "none");
    if (grupo === "densidad" && visible) this.refrescarDensidad();
  }

  leyendas() {
    const items = (colores, etiquetas, cuadro = false) =>
      Object.entries(colores)
        .map(([k, c]) => `<li><i class="${cuadro ? "cuadro" : ""}" style="background:${c}"></i>${etiquetas[k] || k}</li>`)
        .join("");
    document.getElementById("leyenda-efectivos").innerHTML =
      items(COLORES_ESTADO, this.config.estados) +
      `<li><i style="background:#2ea043;opacity:.3"></i>Sin posición reciente (&gt; ${this.config.fixViejoMin} min)</li>` +
      `<li><i style="background:#e5534b;width:.45rem;height:.45rem"></i>Batería del teléfono &lt; ${this.config.bateriaBaja} %</li>`;
    document.getElementById("leyenda-tareas").innerHTML =
      items(COLORES_PRIORIDAD, this.config.prioridades) +
      `<li><i style="background:#0d1117;border:3px solid #8b949e"></i>Anillo grueso: sin asignar</li>`;
    const tiposCortos = { restringida: "Restringida", perimetro: "Perímetro", control: "Control", corredor: "Corredor" };
    document.getElementById("leyenda-geocercas").innerHTML =
      items(COLORES_GEOCERCA, tiposCortos, true) +
      `<li><i class="cuadro rayada"></i>Fuera de horario (no rige ahora)</li>`;
    const paradas = GRADIENTE_DENSIDAD.slice(3).filter((_, i) => i % 2 === 1).join(", ");
    document.getElementById("leyenda-densidad").innerHTML =
      `<li class="gradiente"><span style="background:linear-gradient(to right, ${paradas})"></span></li>` +
      `<li class="extremos"><span>Pocas lecturas</span><span>Muchas</span></li>`;
  }
}
