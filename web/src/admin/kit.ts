import { api } from '../api';
import { errorBox, h } from '../dom';

/** Small pieces every admin page uses: labelled fields, a status line, tables, "shown once" boxes. */

let seq = 0;

/** A label and its control, tied by id (keyboard and screen-reader friendly). */
export function field(
  label: string,
  control: HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement,
  hint?: string,
): HTMLElement {
  if (!control.id) control.id = `f${++seq}`;
  const hintEl = hint ? h('small', { class: 'hint', id: `${control.id}-hint` }, hint) : null;
  if (hintEl) control.setAttribute('aria-describedby', hintEl.id);
  return h('div', { class: 'field' }, h('label', { for: control.id }, label), control, hintEl);
}

export function input(
  id: string,
  attrs: Record<string, string | number | boolean | undefined> = {},
): HTMLInputElement {
  return h('input', { id, name: id, ...attrs });
}

export function select(id: string, options: Array<[string, string]>, value?: string): HTMLSelectElement {
  const s = h('select', { id, name: id }, ...options.map(([v, label]) => h('option', { value: v }, label)));
  if (value !== undefined) s.value = value;
  return s;
}

/** A place for the outcome of an action: an API error with its message, or a short success note. */
export function status(id?: string): {
  el: HTMLElement;
  error(err: unknown): void;
  ok(text: string): void;
  clear(): void;
} {
  const el = h('div', { class: 'status', id, 'aria-live': 'polite' });
  return {
    el,
    error: (err) => el.replaceChildren(errorBox(err)),
    ok: (text) => el.replaceChildren(h('p', { class: 'ok' }, text)),
    clear: () => el.replaceChildren(),
  };
}

/** A table with a header row; rows are built by the caller. */
export function table(id: string, headers: string[], rows: HTMLTableRowElement[]): HTMLTableElement {
  return h(
    'table',
    { id, class: 'grid' },
    h('thead', {}, h('tr', {}, ...headers.map((x) => h('th', { scope: 'col' }, x)))),
    h('tbody', {}, ...rows),
  );
}

export function row(
  attrs: Record<string, string>,
  ...cells: Array<Node | string | null>
): HTMLTableRowElement {
  return h('tr', attrs, ...cells.map((c) => h('td', {}, c)));
}

/** A secret the API shows once: visible now, gone on the next render (never stored anywhere). */
export function shownOnce(id: string, label: string, secret: string): HTMLElement {
  const code = h('code', { id, class: 'secret' }, secret);
  return h(
    'div',
    { class: 'once', role: 'status' },
    h('strong', {}, `${label}: `),
    code,
    h('p', { class: 'hint' }, 'Copy it now: it is shown this once and never again.'),
  );
}

/** A delete button that asks on the page (no modal dialog): first press arms it, the second acts. */
export function confirmButton(
  label: string,
  attrs: Record<string, string>,
  act: () => Promise<unknown>,
  onError: (e: unknown) => void,
): HTMLButtonElement {
  const b = h('button', { type: 'button', class: 'danger', ...attrs }, label);
  let armed = false;
  b.addEventListener('click', () => {
    if (!armed) {
      armed = true;
      b.textContent = `Confirm: ${label.toLowerCase()}`;
      return;
    }
    b.disabled = true;
    act().then(
      () => undefined,
      (e: unknown) => {
        b.disabled = false;
        armed = false;
        b.textContent = label;
        onError(e);
      },
    );
  });
  b.addEventListener('blur', () => {
    if (armed && !b.disabled) {
      armed = false;
      b.textContent = label;
    }
  });
  return b;
}

/** Submits a form through `act`; the submit button is disabled meanwhile and errors land in `out`. */
export function onSubmit(
  form: HTMLFormElement,
  out: ReturnType<typeof status>,
  act: () => Promise<unknown>,
): void {
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const btn = form.querySelector<HTMLButtonElement>('button[type=submit]');
    if (btn) btn.disabled = true;
    out.clear();
    act()
      .catch((e: unknown) => out.error(e))
      .finally(() => {
        if (btn) btn.disabled = false;
      });
  });
}

export const enc = encodeURIComponent;
export { api, h };

/** Bytes for people: 1.5 GiB, 320 MiB. */
export function bytes(n: number | null | undefined): string {
  if (n === null || n === undefined) return '—';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(1)} ${units[i]}`;
}

/** An SVG element (the `h` of SVG: attributes set as given). */
export function svg(
  tag: string,
  attrs: Record<string, string | number> = {},
  ...children: Array<Node | string>
): SVGElement {
  const el = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  for (const c of children) el.append(c);
  return el;
}
