/**
 * The admins' doctor (/dashboard/doctor): the only module that wires its pieces. The
 * browser measures the way to the server (DoctorProbe), the server judges what it saw
 * (POST /api/doctor/findings) and the page shows the findings (DoctorView).
 */
import { ApiClient, ApiError } from "./api.js";
import { DoctorProbe } from "./doctor-probe.js";
import { DoctorView } from "./doctor-view.js";
import { _ } from "./texts.js";

const root = document.getElementById("doctor");
if (root) {
  const api = new ApiClient({ csrfToken: root.dataset.csrfToken });
  const probe = new DoctorProbe();
  const view = new DoctorView(root, document);
  const run = root.querySelector("#doctor-run");
  run.addEventListener("click", async () => {
    view.running();
    try {
      view.render(await api.judgeDoctorFindings(await probe.observe()));
    } catch (error) {
      view.failed(error instanceof ApiError && error.status ? error.message : _("The server could not be reached."));
    }
  });
  run.disabled = false; // the page renders it disabled until this module listens
}
