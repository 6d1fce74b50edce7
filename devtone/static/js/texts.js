/**
 * The page's texts in its language, gettext's way: the English text is its own key.
 *
 *   _("Send")                                   → "Enviar" on a pt-BR page
 *   _("Typically replies in {minutes} min", { minutes: 3 })
 *   ngettext("{count} new message", "{count} new messages", n, { count: n })
 *
 * The server writes the page's catalogue (translations/<locale>/js.po, only the language
 * it chose) into `<script type="application/json" id="devtone-texts">`; without one (an
 * English page, the unit tests under Node) every text is its English source. `make
 * translations` finds these calls in the sources, so a text must be a literal here, never
 * a variable.
 */

const state = { language: "en", catalogue: {} };

/** Read the page's catalogue once; a page with none stays English. */
function readPage() {
  if (typeof document === "undefined") return;
  const lang = document.documentElement?.lang;
  if (lang) state.language = lang;
  const node = document.getElementById("devtone-texts");
  if (!node) return;
  try {
    const catalogue = JSON.parse(node.textContent || "{}");
    if (catalogue && typeof catalogue === "object") state.catalogue = catalogue;
  } catch {
    // A broken block leaves the page in English rather than without words.
  }
}

readPage();

/** `{name}` placeholders filled from `values`; unknown ones are left as written. */
export function fill(text, values) {
  if (!values) return text;
  return text.replace(/\{(\w+)\}/g, (whole, name) =>
    Object.hasOwn(values, name) ? String(values[name]) : whole,
  );
}

/** The text for `source` in the page's language, its placeholders filled. */
export function _(source, values) {
  const translated = state.catalogue[source];
  return fill(typeof translated === "string" && translated ? translated : source, values);
}

/** The singular or plural text for `count`, by CLDR's rule for the page's language. */
export function ngettext(singular, plural, count, values) {
  const category = new Intl.PluralRules(state.language).select(count);
  const forms = state.catalogue[singular];
  const english = category === "one" ? singular : plural;
  const chosen = forms && typeof forms === "object" ? (forms[category] ?? forms.other) : english;
  return fill(chosen || english, { count, ...values });
}

/** The page's language as a BCP 47 tag ("en", "pt-BR"), for `Intl` formats. */
export function language() {
  return state.language;
}

/** Use `catalogue` in `language` (the unit tests' way to see a translated page). */
export function useTexts(languageTag, catalogue) {
  state.language = languageTag;
  state.catalogue = catalogue ?? {};
}
