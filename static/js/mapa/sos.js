// SOS: pinned above the map until resolved, in a colour nothing else uses, with its own siren.
// Loaded from /api/v1/sos/?estado=activo and kept live by sos.activado / sos.resuelto frames, so
// a map opened after the tap, or reconnected, shows it too. "Ver" flies to the efectivo and opens
// their panel (their track follows live); "Resolver" closes it for every map.
import { pedir, escapar, hora } from "./api.js";

const horaDe = (iso) => hora(iso, { segundos: true });

export class Sos {
  constructor({ alVer, avisar }) {
    this.caja = document.getElementById("sos");
    this.alVer = alVer;
    this.avisar = avisar;
    this.items = new Map();
    this.audio = null;
    document.addEventListener("click", () => this.prepararSonido(), { once: true });
  }

  async cargar() {
    const datos = await pedir("/api/v1/sos/?estado=activo&limit=100");
    this.caja.innerHTML = "";
    this.items.clear();
    for (const s of datos.results) {
      this.activado(
        {
          sos_id: s.id,
          efectivo_id: s.efectivo,
          efectivo: s.efectivo_nombre,
          lat: s.lat,
          lon: s.lon,
          lugar: s.lugar,
          creado_en: s.creado_en,
          tarea_id: s.tarea,
          asignados: s.refuerzos.map((r) => r.efectivo),
        },
        false,
      );
    }
  }

  activado(d, nuevo = true) {
    let el = this.items.get(d.sos_id);
    if (!el) {
      el = document.createElement("div");
      el.className = "sos-item";
      el.dataset.id = d.sos_id;
      this.caja.prepend(el);
      this.items.set(d.sos_id, el);
      if (nuevo) this.sonar();
    }
    // Named from the street extract when one is installed ("Avenida de Mayo y Bolívar"), else coordinates.
    const lugar = d.lat === null ? "sin ubicación todavía" : d.lugar || `${d.lat.toFixed(5)}, ${d.lon.toFixed(5)}`;
    const refuerzo = d.asignados && d.asignados.length ? ` · refuerzo: ${d.asignados.length}` : "";
    const abierto = el.querySelector(".cierre"); // a live update must not wipe a half-filled closing form
    el.innerHTML = `
      <strong>🆘 SOS · ${escapar(d.efectivo)}</strong>
      <span class="meta">${horaDe(d.creado_en)} · ${escapar(lugar)}${refuerzo}</span>
      <button type="button" class="boton ver">Ver</button>
      <button type="button" class="boton secundario resolver">Resolver</button>`;
    el.querySelector(".ver").addEventListener("click", () => this.alVer(d));
    el.querySelector(".resolver").addEventListener("click", () => this.preguntar(el, d));
    if (abierto) {
      // Rebuilt from the fresh data (the emergency may have been created since), keeping the note.
      const nota = abierto.elements.nota.value;
      this.preguntar(el, d);
      el.querySelector(".cierre").elements.nota.value = nota;
    }
    this.caja.hidden = false;
  }

  resuelto(d) {
    const el = this.items.get(d.sos_id);
    if (!el) return;
    el.remove();
    this.items.delete(d.sos_id);
    this.caja.hidden = this.items.size === 0;
  }

  preguntar(el, d) {
    // Closing an SOS decides its emergency too: kept, finished (help arrived) or cancelled (a
    // false alarm); finishing or cancelling releases the backup.
    if (el.querySelector(".cierre")) return;
    const form = document.createElement("form");
    form.className = "cierre";
    form.innerHTML = `
      ${d.tarea_id ? `<label>Emergencia <select name="tarea">
        <option value="finalizar">Finalizarla: la ayuda llegó</option>
        <option value="cancelar">Cancelarla: falsa alarma</option>
        <option value="mantener">Mantenerla abierta</option></select></label>` : ""}
      <label>Nota <input name="nota" maxlength="2000" placeholder="opcional"></label>
      <button type="submit" class="boton">Confirmar</button>
      <button type="button" class="boton secundario volver">Volver</button>`;
    form.querySelector(".volver").addEventListener("click", () => form.remove());
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      this.resolver(d.sos_id, { nota: form.elements.nota.value, tarea: form.elements.tarea?.value || "mantener" });
    });
    el.append(form);
    form.elements.nota.focus();
  }

  async resolver(id, cuerpo) {
    try {
      const s = await pedir(`/api/v1/sos/${id}/resolver/`, { metodo: "POST", cuerpo });
      this.resuelto({ sos_id: s.id });
      this.avisar("SOS resuelto.", true);
    } catch (err) {
      this.avisar(err.message);
    }
  }

  prepararSonido() {
    try {
      this.audio = new AudioContext();
    } catch {
      this.audio = null;
    }
  }

  sonar() {
    // A two-tone siren, unlike any alert's beep.
    if (!this.audio) return;
    const t = this.audio.currentTime;
    const osc = this.audio.createOscillator();
    const gan = this.audio.createGain();
    osc.type = "square";
    for (let i = 0; i < 6; i += 1) osc.frequency.setValueAtTime(i % 2 ? 660 : 990, t + i * 0.25);
    gan.gain.setValueAtTime(0.12, t);
    gan.gain.setValueAtTime(0.001, t + 1.5);
    osc.connect(gan).connect(this.audio.destination);
    osc.start(t);
    osc.stop(t + 1.5);
  }
}
