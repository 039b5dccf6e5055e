"""The console's single HTML page (inline CSS/JS, no external assets: works offline on a robot LAN).

Kept as a Python string so it ships inside the package without package-data plumbing.
"""

PAGE = r"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1, user-scalable=no">
<title>embodied_stack console</title>
<style>
 body{font-family:sans-serif;margin:8px;background:#111;color:#eee;touch-action:none}
 #cams img{width:320px;max-width:45vw;image-rendering:pixelated;border:1px solid #444;margin:2px}
 #pad{width:220px;height:220px;border-radius:50%;background:#333;position:relative;display:inline-block;
      touch-action:none;user-select:none}
 #knob{width:60px;height:60px;border-radius:50%;background:#0af;position:absolute;left:80px;top:80px}
 button{font-size:16px;margin:3px;padding:8px 12px;border-radius:6px;border:0;background:#444;color:#eee}
 #estop{background:#c00;font-weight:bold;font-size:20px;padding:14px 22px}
 #state{font-size:12px;background:#222;padding:6px;max-height:200px;overflow:auto}
 .row{margin:6px 0} input{font-size:16px;width:320px}
</style></head><body>
<div id="cams"></div>
<div class="row">
 <div id="pad"><div id="knob"></div></div>
 <span style="display:inline-block;vertical-align:top">
  <button id="up">up</button><button id="down">down</button><br>
  <button id="yawl">yaw &#8634;</button><button id="yawr">yaw &#8635;</button><br>
  <button id="open">open</button><button id="close">close</button><br>
  <button id="estop">E-STOP</button> <button id="reset">reset</button>
 </span>
</div>
<div class="row"><input id="task" placeholder="task instruction, e.g. put the red cube in the bowl"></div>
<div class="row">
 <button id="start">record</button><button id="stop">stop &amp; save</button><button id="next">next</button>
 <button id="rerecord">re-record</button><button id="discard">discard</button>
 <span id="rec-state">-</span>
</div>
<pre id="state"></pre>
<script>
const CAMERAS = __CAMERAS__;
const cams = document.getElementById('cams');
for (const c of CAMERAS) {
  const img = document.createElement('img'); img.id = 'cam-' + c; img.alt = c; cams.appendChild(img);
}
function refreshCams() {
  for (const c of CAMERAS) {
    const img = document.getElementById('cam-' + c);
    const next = new Image();
    next.onload = () => { img.src = next.src; setTimeout(() => URL.revokeObjectURL(next.src), 1000); };
    fetch('/api/camera/' + encodeURIComponent(c), {cache: 'no-store'}).then(r => r.ok ? r.blob() : null)
      .then(b => { if (b) next.src = URL.createObjectURL(b); }).catch(() => {});
  }
}
setInterval(refreshCams, 200);
const post = (path, body) => fetch(path, {method: 'POST', headers: {'Content-Type': 'application/json'},
                                         body: JSON.stringify(body || {})});
// ---- pad: x/y from the knob offset; held buttons add z, yaw, gripper --------------------------
const pad = document.getElementById('pad'), knob = document.getElementById('knob');
let held = false, dx = 0, dy = 0, extra = {z: 0, yaw: 0, grip: 0};
function setKnob(x, y) { knob.style.left = (80 + x * 80) + 'px'; knob.style.top = (80 + y * 80) + 'px'; }
function padMove(e) {
  const r = pad.getBoundingClientRect();
  let x = (e.clientX - r.left - r.width / 2) / (r.width / 2);
  let y = (e.clientY - r.top - r.height / 2) / (r.height / 2);
  const n = Math.hypot(x, y); if (n > 1) { x /= n; y /= n; }
  dx = x; dy = y; setKnob(x, y);
}
pad.addEventListener('pointerdown', e => {
  held = true; pad.setPointerCapture(e.pointerId); padMove(e); send();
});
pad.addEventListener('pointermove', e => { if (held) padMove(e); });
function release() { held = false; dx = dy = 0; setKnob(0, 0); send(); }
pad.addEventListener('pointerup', release); pad.addEventListener('pointercancel', release);
function holdButton(id, key, value) {
  const b = document.getElementById(id);
  b.addEventListener('pointerdown', () => { extra[key] = value; held = true; send(); });
  const up = () => {
    extra[key] = 0;
    if (!extra.z && !extra.yaw && !extra.grip && dx === 0 && dy === 0) held = false;
    send();
  };
  b.addEventListener('pointerup', up); b.addEventListener('pointerleave', up);
}
holdButton('up', 'z', 1); holdButton('down', 'z', -1);
holdButton('yawl', 'yaw', 1); holdButton('yawr', 'yaw', -1);
holdButton('open', 'grip', 1); holdButton('close', 'grip', -1);
function send() {
  // pad up = forward (+x), pad left = +y (REP-103 body axes)
  post('/api/pad', {twist: [-dy, -dx, extra.z, 0, 0, extra.yaw], gripper: extra.grip, held: held});
}
setInterval(() => { if (held) send(); }, 50);
window.addEventListener('blur', () => { if (held) release(); });
// ---- buttons ---------------------------------------------------------------------------------
document.getElementById('estop').onclick = () => { release(); post('/api/estop'); };
document.getElementById('reset').onclick = () => post('/api/reset');
for (const ev of ['start', 'stop', 'next', 'rerecord', 'discard']) {
  document.getElementById(ev).onclick =
    () => post('/api/event', {event: ev, task: document.getElementById('task').value});
}
// ---- state -----------------------------------------------------------------------------------
setInterval(() => fetch('/api/state', {cache: 'no-store'}).then(r => r.json()).then(s => {
  document.getElementById('state').textContent = JSON.stringify(s, null, 1);
  const rec = s.recording || {};
  document.getElementById('rec-state').textContent =
    (s.estop ? 'E-STOP | ' : '') + (rec.state || '-') + ' | episodes ' + (rec.episodes ?? '-') +
    ' | frames ' + (rec.episode_frames ?? '-');
}).catch(() => {}), 250);
</script></body></html>
"""
