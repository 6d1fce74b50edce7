/** A form's error slots (`[data-error-for=field]`, and `""` for the form as a whole). */

/** Show `message` in the form's `[data-error-for=field]` slot, or its general slot. */
export function showFieldError(form, error) {
  const slots = form.querySelectorAll("[data-error-for]");
  const named = [...slots].find((slot) => error.field && slot.dataset.errorFor === error.field);
  const slot = named ?? [...slots].find((candidate) => candidate.dataset.errorFor === "");
  if (!slot) return;
  slot.textContent = error.message;
  slot.hidden = false;
  if (named) form.elements.namedItem(error.field)?.setAttribute("aria-invalid", "true");
}

/** Hide every error slot and clear aria-invalid. */
export function clearErrors(form) {
  for (const slot of form.querySelectorAll("[data-error-for]")) {
    slot.textContent = "";
    slot.hidden = true;
  }
  for (const input of form.querySelectorAll("[aria-invalid]")) input.removeAttribute("aria-invalid");
}
