// The officer's current task: where it is from their last fix (distance and direction), a small
// map of the place (the agency's own base map, cached for offline use), and the link that opens
// the phone's own maps app there.
import { escapar } from "../mapa/api.js";
import { estiloBase } from "../mapa/base.js";

const RUMBOS = ["N", "NE", "E", "SE", "S", "SO", "O", "NO"];

export function distanciaRumbo(desde, hasta) {
  // Great-circle distance (m) and initial bearing (degrees from north).
  const r = Math.PI / 180;
  const [f1, f2] = [desde.lat * r, hasta.lat * r];
  const dl = (hasta.lon - desde.lon) * r;
  const a = Math.sin((f2 - f1) / 2) ** 2 + Math.cos(f1) * Math.cos(f2) * Math.sin(dl / 2) ** 2;
  const metros = 2 * 6371008.8 * Math.asin(Math.sqrt(a));
  const y = Math.sin(dl) * Math.cos(f2);
  const x = Math.cos(f1) * Math.sin(f2) - Math.sin(f1) * Math.cos(f2) * Math.cos(dl);
  const grados = ((Math.atan2(y, x) / r) + 360) % 360;
  return { metros, grados, rumbo: RUMBOS[Math.round(grados / 45) % 8] };
}

export function distanciaTexto(m) {
  return m >= 1000 ? `${(m / 1000).toFixed(1).replace(".", ",")} km` : `${Math.round(m)} m`;
}

export function enlaceMapas(t) {
  // Android opens geo: in the maps app the officer chose; iOS opens Apple Maps with directions.
  const nombre = encodeURIComponent(t.titulo || t.codigo);
  if (/iPhone|iPad|iPod/.test(navigator.userAgent)) return `https://maps.apple.com/?daddr=${t.lat},${t.lon}&q=${nombre}`;
  return `geo:${t.lat},${t.lon}?q=${t.lat},${t.lon}(${nombre})`;
}

export class MiniMapa {
  constructor(elemento, config) {
    this.elemento = elemento;
    this.config = config;
    this.map = null;
  }

  mostrar(tarea, yo) {
    if (tarea.lat == null || typeof maplibregl === "undefined") {
      this.elemento.hidden = true;
      return;
    }
    this.elemento.hidden = false;
    const destino = [tarea.lon, tarea.lat];
    if (!this.map) {
      this.map = new maplibregl.Map({
        container: this.elemento,
        style: estiloBase(this.config),
        center: destino,
        zoom: 15,
        attributionControl: { compact: true },
        interactive: true,
      });
      this.destino = new maplibregl.Marker({ color: "#e5372e" }).setLngLat(destino).addTo(this.map);
    } else {
      this.destino.setLngLat(destino);
    }
    if (yo) {
      if (!this.yo) this.yo = new maplibregl.Marker({ color: "#3b8cff", scale: 0.7 }).setLngLat([yo.lon, yo.lat]).addTo(this.map);
      else this.yo.setLngLat([yo.lon, yo.lat]);
      const caja = [
        [Math.min(yo.lon, tarea.lon), Math.min(yo.lat, tarea.lat)],
        [Math.max(yo.lon, tarea.lon), Math.max(yo.lat, tarea.lat)],
      ];
      this.map.fitBounds(caja, { padding: 30, maxZoom: 16, duration: 0 });
    } else {
      this.map.jumpTo({ center: destino, zoom: 15 });
    }
  }
}

export function tareaHtml(t, { asignacion, yo, prioridades, estadosTarea }) {
  const lugar =
    t.lat != null && yo
      ? (() => {
          const d = distanciaRumbo(yo, t);
          return `<p class="c-rumbo" data-metros="${Math.round(d.metros)}"><span class="c-flecha" style="transform: rotate(${Math.round(d.grados)}deg)">⬆</span> ${distanciaTexto(d.metros)} al ${d.rumbo}</p>`;
        })()
      : t.lat != null
        ? `<p class="c-tenue">Sin posición propia reciente: active «Compartir mi ubicación» para ver la distancia.</p>`
        : "";
  const acciones = [];
  if (asignacion?.estado === "pendiente") {
    acciones.push(`<button type="button" class="c-boton c-primario" data-accion="aceptar">Aceptar</button>`);
    acciones.push(`<button type="button" class="c-boton c-peligro" data-accion="rechazar">Rechazar</button>`);
  } else if (asignacion?.estado === "aceptada") {
    if (t.estado === "asignada") acciones.push(`<button type="button" class="c-boton c-primario" data-accion="iniciar">Iniciar</button>`);
    if (!asignacion.llegada_en) acciones.push(`<button type="button" class="c-boton c-primario" data-accion="llegada">Llegué</button>`);
    if (t.estado === "en_curso") acciones.push(`<button type="button" class="c-boton" data-accion="finalizar">Finalizar</button>`);
  }
  if (t.lat != null) acciones.push(`<a class="c-boton" id="como-llegar" href="${escapar(enlaceMapas(t))}">Cómo llegar</a>`);
  return `<article class="c-tarea" data-id="${t.id}">
    <p class="c-tarea-titulo">${escapar(t.titulo)}</p>
    <p class="c-tenue">${escapar(t.codigo)} · <span class="c-prioridad-${t.prioridad}">${escapar(prioridades[t.prioridad] || t.prioridad)}</span> · ${escapar(estadosTarea[t.estado] || t.estado)}${asignacion ? ` · su asignación: ${escapar(asignacion.estado)}` : ""}</p>
    ${t.descripcion ? `<p>${escapar(t.descripcion)}</p>` : ""}
    ${t.lugar ? `<p class="c-lugar">📍 ${escapar(t.lugar)}</p>` : ""}
    ${lugar}
    <div class="c-acciones">${acciones.join("")}</div>
    <div class="c-form" hidden></div>
  </article>`;
}
