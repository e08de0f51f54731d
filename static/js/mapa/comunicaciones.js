// The line between command and the street, on the map: writing to efectivos (one, a unidad, those
// within a radius of a point or inside an area drawn on the map, everyone), each recipient's
// delivery / read / acknowledgement live, their replies; and the welfare check-in board (who is
// asked now, who missed), with cadences started from an efectivo's or a task's panel.
import { detalleTexto, escapar, hora, pedir } from "./api.js";

const vacia = () => ({ type: "FeatureCollection", features: [] });
const ESTADO_CONTROL = { al_dia: "al día", pedido: "pedido", fallido: "sin respuesta", terminado: "terminado" };
const FACTORES = { restringida: "zona restringida", emergencia: "emergencia", noche_solo: "solo de noche" };

export class Comunicaciones {
  constructor({ map, capas, config, acciones, avisar }) {
    this.map = map;
    this.capas = capas;
    this.config = config;
    this.acciones = acciones;
    this.avisar = avisar;
    this.abierto = null; // the message whose receipts the panel shows
    this.vertices = [];
    this.controles = new Map();
    this.seccion = document.getElementById("bienestar-seccion");
    this.tablero = document.getElementById("bienestar-tablero");
    this.contador = document.getElementById("bienestar-contador");
    acciones.alMostrarEfectivo = (e, div) => this.enEfectivo(e, div);
    acciones.alMostrarTarea = (t, div) => this.enTarea(t, div);
    map.addSource("mensaje-area", { type: "geojson", data: vacia() });
    map.addLayer({ id: "mensaje-area", type: "fill", source: "mensaje-area", paint: { "fill-color": "#2f81f7", "fill-opacity": 0.15 } });
    map.addLayer({ id: "mensaje-borde", type: "line", source: "mensaje-area", paint: { "line-color": "#2f81f7", "line-width": 2, "line-dasharray": [2, 1] } });
  }

  // --- writing ------------------------------------------------------------------------------------

  redactar({ efectivo = null, efectivos = null, titulo = null } = {}) {
    this.limpiarArea();
    const unidades = this.config.unidades.map((u) => `<option value="${u.id}">${escapar(u.codigo)} · ${escapar(u.nombre)}</option>`).join("");
    const fijo = efectivo || efectivos;
    this.acciones.abrir(`
      <h3>Mensaje a efectivos</h3>
      <form id="m-form" class="formulario" novalidate>
        ${
          fijo
            ? `<p>Para: <strong>${escapar(titulo)}</strong></p>`
            : `<label for="m-destino">Para</label>
        <select id="m-destino">
          <option value="unidad">Una unidad</option>
          <option value="radio">Quienes están cerca de un punto</option>
          <option value="area">Quienes están en un área</option>
          <option value="todos">Todos los de mi alcance</option>
        </select>
        <div data-para="unidad"><select id="m-unidad">${unidades}</select></div>
        <div data-para="radio" hidden><span class="tenue" id="m-punto">Haga clic en el mapa para elegir el centro.</span>
          <label for="m-radio">Radio (m)</label><input id="m-radio" type="number" min="1" max="50000" value="500"></div>
        <div data-para="area" hidden><span class="tenue" id="m-vertices">Haga clic en el mapa para marcar los vértices del área (3 o más).</span>
          <button type="button" class="boton secundario chico" id="m-borrar">Empezar de nuevo</button></div>`
        }
        <label for="m-texto">Mensaje</label>
        <textarea id="m-texto" maxlength="2000" rows="4" required></textarea>
        <label><input type="checkbox" id="m-urgente"> Urgente: pide confirmación y se reenvía por Telegram hasta que la den</label>
        <p class="tenue">Llega a la app de campo y a Telegram (cuentas vinculadas). Los equipos de seguimiento (Traccar Client, OwnTracks) no tienen canal de texto: no lo reciben. Se envía a quienes estén en ese destino ahora.</p>
        <div class="enviar"><button type="submit" class="boton">Enviar</button></div>
      </form>
      <div id="m-enviados"></div>`);
    const destino = document.getElementById("m-destino");
    const elegir = () => {
      document.querySelectorAll("#m-form [data-para]").forEach((d) => (d.hidden = d.dataset.para !== destino.value));
      this.acciones.alClic = ["radio", "area"].includes(destino.value) ? (e) => this.marcar(destino.value, e.lngLat) : null;
      this.limpiarArea();
    };
    destino?.addEventListener("change", elegir);
    document.getElementById("m-borrar")?.addEventListener("click", () => this.limpiarArea());
    document.getElementById("m-form").addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const cuerpo = { texto: document.getElementById("m-texto").value, urgente: document.getElementById("m-urgente").checked };
      if (fijo) cuerpo.efectivos = efectivos || [efectivo];
      else if (destino.value === "unidad") cuerpo.unidad = Number(document.getElementById("m-unidad").value);
      else if (destino.value === "todos") cuerpo.todos = true;
      else if (destino.value === "radio") {
        if (!this.centro) return this.avisar("Elija el centro con un clic en el mapa.");
        Object.assign(cuerpo, { lat: this.centro.lat, lon: this.centro.lng, radio_m: Number(document.getElementById("m-radio").value) });
      } else if (destino.value === "area") {
        if (this.vertices.length < 3) return this.avisar("Marque al menos 3 vértices del área en el mapa.");
        cuerpo.area = this.poligono().geometry;
      }
      try {
        const m = await pedir("/api/v1/mensajes/", { metodo: "POST", cuerpo });
        this.acciones.alClic = null;
        this.limpiarArea();
        this.mostrar(m);
        this.avisar(`Mensaje enviado a ${m.entregas.length} efectivo(s).`, true);
      } catch (err) {
        this.avisar(detalleTexto(err));
      }
    });
    this.listarEnviados();
  }

  marcar(tipo, lngLat) {
    if (tipo === "radio") {
      this.centro = lngLat;
      document.getElementById("m-punto").textContent = `Centro: ${lngLat.lat.toFixed(5)}, ${lngLat.lng.toFixed(5)}`;
      this.map.getSource("mensaje-area").setData({ type: "FeatureCollection", features: [{ type: "Feature", geometry: { type: "Point", coordinates: [lngLat.lng, lngLat.lat] }, properties: {} }] });
      return;
    }
    this.vertices.push([lngLat.lng, lngLat.lat]);
    document.getElementById("m-vertices").textContent = `${this.vertices.length} vértice(s) marcados${this.vertices.length >= 3 ? ": listo para enviar" : ""}.`;
    if (this.vertices.length >= 3) this.map.getSource("mensaje-area").setData({ type: "FeatureCollection", features: [this.poligono()] });
  }

  poligono() {
    return { type: "Feature", properties: {}, geometry: { type: "Polygon", coordinates: [[...this.vertices, this.vertices[0]]] } };
  }

  limpiarArea() {
    this.vertices = [];
    this.centro = null;
    this.map.getSource("mensaje-area")?.setData(vacia());
  }

  async listarEnviados() {
    try {
      const datos = await pedir("/api/v1/mensajes/?limit=10");
      const div = document.getElementById("m-enviados");
      if (!div) return;
      div.innerHTML = `<label>Últimos mensajes</label><ul class="cercanos">${datos.results
        .map((m) => `<li><a href="#" data-mensaje="${m.id}">${escapar(m.texto.slice(0, 60))}</a> <span class="tenue">${hora(m.creado_en)} · ${this.resumen(m)}</span></li>`)
        .join("") || `<li class="tenue">Ninguno todavía.</li>`}</ul>`;
      div.querySelectorAll("[data-mensaje]").forEach((a) =>
        a.addEventListener("click", async (ev) => {
          ev.preventDefault();
          this.mostrar(await pedir(`/api/v1/mensajes/${a.dataset.mensaje}/`));
        }),
      );
    } catch (err) {
      this.avisar(detalleTexto(err));
    }
  }

  resumen(m) {
    const n = m.entregas.length;
    const c = (k) => m.entregas.filter((e) => e[k]).length;
    return `${c("entregado_en")}/${n} entregados · ${c("leido_en")}/${n} leídos${m.urgente ? ` · ${c("confirmado_en")}/${n} confirmados` : ""}`;
  }

  mostrar(m) {
    this.abierto = m;
    const filas = m.entregas
      .map(
        (e) => `<li data-efectivo="${e.efectivo}"><span>${escapar(e.efectivo_nombre)}</span>
        <span class="tenue recibo">${e.entregado_en ? `entregado ${hora(e.entregado_en)}${e.entregado_por === "telegram" ? " (Telegram)" : ""}` : "sin entregar"}${e.leido_en ? ` · leído ${hora(e.leido_en)}` : ""}${e.confirmado_en ? ` · confirmado ${hora(e.confirmado_en)}` : ""}${e.reenvios ? ` · ${e.reenvios} reenvío(s)` : ""}</span></li>`,
      )
      .join("");
    const respuestas = m.respuestas.map((r) => `<li><strong>${escapar(r.efectivo_nombre)}</strong> ${hora(r.creada_en)}: <span class="texto-libre">${escapar(r.texto)}</span></li>`).join("");
    this.acciones.abrir(`
      <h3>Mensaje${m.urgente ? " urgente" : ""} · ${hora(m.creado_en)}</h3>
      <p class="texto-libre mensaje-texto">${escapar(m.texto)}</p>
      <p class="tenue" id="m-resumen">${this.resumen(m)}</p>
      <ul class="cercanos recibos" id="m-recibos">${filas}</ul>
      <label>Respuestas</label>
      <ul class="cercanos" id="m-respuestas">${respuestas || `<li class="tenue">Ninguna todavía.</li>`}</ul>
      <button type="button" class="boton secundario" id="m-nuevo">Nuevo mensaje</button>`);
    document.getElementById("m-nuevo").addEventListener("click", () => this.redactar());
  }

  entrega(d) {
    // A recipient's receipt or reply, live. The open message is updated in place.
    if (d.respuesta) this.avisar(`Respuesta de ${d.efectivo}: ${d.respuesta}`, true);
    const m = this.abierto;
    if (!m || m.id !== d.mensaje_id || !document.getElementById("m-recibos")) return;
    const e = m.entregas.find((x) => x.efectivo === d.efectivo_id);
    if (e) Object.assign(e, { entregado_en: d.entregado_en, leido_en: d.leido_en, confirmado_en: d.confirmado_en });
    if (d.respuesta) m.respuestas.push({ efectivo_nombre: d.efectivo, creada_en: new Date().toISOString(), texto: d.respuesta });
    this.mostrar(m);
  }

  // --- panels: an efectivo, a task ----------------------------------------------------------------

  enEfectivo(e, div) {
    if (!div) return;
    const nombre = `${e.codigo} · ${e.nombre}`;
    const control = [...this.controles.values()].find((c) => c.efectivo_id === e.id);
    div.innerHTML = `<label>Comunicación</label>
      <div class="comunicar">
        ${e.tiene_usuario ? `<button type="button" class="boton secundario chico" id="c-escribir">Escribirle</button>` : `<span class="tenue">Sin usuario: no recibe mensajes.</span>`}
        ${this.formBienestar(control)}
      </div>`;
    div.querySelector("#c-escribir")?.addEventListener("click", () => this.redactar({ efectivo: e.id, titulo: nombre }));
    this.conectarBienestar(div, { efectivo: e.id }, control);
  }

  enTarea(t, div) {
    if (!div) return;
    const vivos = t.asignaciones.filter((a) => ["pendiente", "aceptada"].includes(a.estado));
    if (!vivos.length) return;
    div.innerHTML = `<label>Comunicación</label>
      <div class="comunicar">
        <button type="button" class="boton secundario chico" id="c-escribir">Escribir a los asignados</button>
        ${this.formBienestar(null, "para todos los asignados")}
      </div>`;
    div.querySelector("#c-escribir").addEventListener("click", () =>
      this.redactar({ efectivos: vivos.map((a) => a.efectivo), titulo: `asignados a ${t.codigo} (${vivos.length})` }),
    );
    this.conectarBienestar(div, { tarea: t.id }, null);
  }

  formBienestar(control, para = "") {
    if (control) {
      return `<div class="tenue">Control de bienestar cada ${control.intervalo_min} min · ${escapar(ESTADO_CONTROL[control.estado] || control.estado)}</div>
        <button type="button" class="boton secundario chico" data-terminar="${control.control_id}">Terminar control</button>`;
    }
    return `<div class="bienestar-alta"><label for="c-intervalo">Control de bienestar ${para}</label>
      <span>cada <input id="c-intervalo" type="number" min="1" max="1440" value="20" class="chico"> min</span>
      <button type="button" class="boton secundario chico" id="c-bienestar">Iniciar</button></div>`;
  }

  conectarBienestar(div, para, control) {
    div.querySelector("#c-bienestar")?.addEventListener("click", async () => {
      try {
        const r = await pedir("/api/v1/bienestar/", { metodo: "POST", cuerpo: { ...para, intervalo_min: Number(div.querySelector("#c-intervalo").value) } });
        this.avisar(`Control de bienestar iniciado para ${r.length} efectivo(s).`, true);
        await this.cargar();
      } catch (err) {
        this.avisar(detalleTexto(err));
      }
    });
    div.querySelector("[data-terminar]")?.addEventListener("click", () => this.terminar(control.control_id));
  }

  // --- the check-in board -------------------------------------------------------------------------

  async cargar() {
    const datos = await pedir("/api/v1/bienestar/?limit=500");
    this.controles.clear();
    for (const c of datos.results) {
      this.controles.set(c.id, {
        control_id: c.id,
        efectivo_id: c.efectivo,
        efectivo: c.efectivo_nombre,
        estado: c.estado,
        intervalo_min: c.intervalo_min,
        factores: [],
        proximo_en: c.proximo_en,
        vence_en: c.vence_en,
        fallos_seguidos: c.fallos_seguidos,
        sos_id: c.sos,
      });
    }
    this.pintar();
  }

  evento(tipo, d) {
    const antes = this.controles.get(d.control_id);
    if (d.estado === "terminado") this.controles.delete(d.control_id);
    else this.controles.set(d.control_id, d);
    if (d.estado === "fallido" && tipo === "bienestar.estado" && (!antes || antes.fallos_seguidos < d.fallos_seguidos)) {
      this.avisar(`${d.efectivo} no respondió el control de bienestar${d.fallos_seguidos > 1 ? ` (${d.fallos_seguidos} seguidos)` : ""}.${d.sos_id ? " SOS activado en su nombre." : ""}`);
    }
    this.pintar();
  }

  pintar() {
    const orden = { fallido: 0, pedido: 1, al_dia: 2 };
    const lista = [...this.controles.values()].sort((a, b) => (orden[a.estado] ?? 3) - (orden[b.estado] ?? 3) || String(a.proximo_en).localeCompare(String(b.proximo_en)));
    this.tablero.innerHTML = lista
      .map((c) => {
        const que =
          c.estado === "fallido"
            ? `sin respuesta${c.fallos_seguidos > 1 ? ` ×${c.fallos_seguidos}` : ""}${c.vence_en ? ` · pedido de nuevo, vence ${hora(c.vence_en)}` : ""}`
            : c.estado === "pedido"
              ? `pedido · vence ${hora(c.vence_en)}`
              : `al día · próximo ${c.proximo_en ? hora(c.proximo_en) : "—"}`;
        const factores = (c.factores || []).map((f) => FACTORES[f] || f).join(", ");
        return `<li class="control control-${c.estado}" data-control="${c.control_id}" data-efectivo="${c.efectivo_id}">
          <span>${escapar(c.efectivo)}</span>
          <span class="meta">${que} · cada ${Math.round(c.intervalo_min * 10) / 10} min${factores ? ` (${escapar(factores)})` : ""}</span>
          <button type="button" class="boton secundario chico" data-terminar="${c.control_id}" title="Terminar este control">×</button></li>`;
      })
      .join("");
    this.tablero.querySelectorAll("li").forEach((li) =>
      li.addEventListener("click", (ev) => {
        if (ev.target.dataset.terminar) return this.terminar(Number(ev.target.dataset.terminar));
        this.acciones.abrirEfectivo(Number(li.dataset.efectivo));
      }),
    );
    const atencion = lista.filter((c) => c.estado !== "al_dia").length;
    this.contador.textContent = atencion || lista.length;
    this.contador.classList.toggle("activo", atencion > 0);
    this.seccion.hidden = lista.length === 0;
  }

  async terminar(id) {
    try {
      await pedir(`/api/v1/bienestar/${id}/terminar/`, { metodo: "POST" });
      this.controles.delete(id);
      this.pintar();
    } catch (err) {
      this.avisar(detalleTexto(err));
    }
  }
}
