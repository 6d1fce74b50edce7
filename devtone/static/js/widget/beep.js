import { playTone } from "../tone.js";

/** A short beep for an agent message while the panel is closed (WebAudio, no media file). */
export function beeper(window) {
  let audio = null;
  return () => {
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      const resumed = audio.resume && audio.resume();
      if (resumed && resumed.catch) resumed.catch(() => {});
      playTone(audio);
    } catch {
      // No WebAudio, or no user gesture yet: the badge still tells.
    }
  };
}
