// The animation's player, inlined into the report as a script: it reads the trace
// frames from the page's embedded JSON and shows one clock cycle at a time in the SVG
// that html.ts rendered (every value comes from the trace; nothing is computed here).
// Controls: play/pause, step back, step forward, a slider over the window's cycles.
export const PLAYER_JS = String.raw`
(function () {
  var data = JSON.parse(document.getElementById('nnfpga-data').textContent);
  var A = data.animation;
  if (!A) return;
  var F = A.frames, n = A.n, k = 0, timer = null;
  function $(id) { return document.getElementById(id); }
  function set(id, v) { var e = $(id); if (e) e.textContent = v; }
  function lanes(prefix, vals, on) {
    for (var j = 0; j < n; j++) {
      set(prefix + j, vals ? String(vals[j]) : '');
      var r = $(prefix + j + '-box');
      if (r) r.setAttribute('class', 'lane' + (on ? ' on' : ''));
    }
  }
  function show(i) {
    k = Math.max(0, Math.min(F.length - 1, i));
    var f = F[k], busy = 0;
    for (var r = 0; r < n; r++) for (var c = 0; c < n; c++) {
      var id = 'pe-' + r + '-' + c;
      set(id + '-w', 'w ' + f.w[r][c]);
      set(id + '-x', 'x ' + f.x[r][c]);
      set(id + '-p', String(f.p[r][c]));
      $(id).setAttribute('class', 'pe' + (f.valid[r][c] ? ' on' : ''));
      busy += f.valid[r][c];
    }
    lanes('west-', f.west.x, f.west.valid);
    lanes('south-', f.south.psum, f.south.valid);
    lanes('acc-', f.acc, !!f.acc);
    lanes('out-', f.out, !!f.out);
    for (var w = 0; w < n; w++) {
      var row = $('wrow-' + w);
      if (row) row.setAttribute('class', 'wrow' + (f.wload && f.wload.row === w ? ' on' : ''));
    }
    set('anim-wload', f.wload ? 'WMEM row ' + f.wload.row + ' -> shadow weights: [' + f.wload.data.join(', ') + ']' : '');
    set('anim-cycle', String(f.cycle));
    set('anim-layer-cycle', String(f.layer_cycle));
    set('anim-state', f.state);
    set('anim-busy', busy + ' / ' + n * n);
    set('anim-south-tag', f.south.valid ? (f.south.last ? 'last tile: to the requantizer' : 'partial: accumulator entry ' + f.south.entry) : '');
    var cur = $('anim-cursor');
    if (cur) { var x = Number(cur.getAttribute('data-x0')) + k * Number(cur.getAttribute('data-dx')); cur.setAttribute('x1', x); cur.setAttribute('x2', x); }
    $('anim-slider').value = String(k);
    set('anim-index', (k + 1) + ' / ' + F.length);
  }
  function stop() { if (timer) { clearInterval(timer); timer = null; } $('anim-play').textContent = 'play'; }
  $('anim-play').addEventListener('click', function () {
    if (timer) { stop(); return; }
    if (k >= F.length - 1) show(0);
    $('anim-play').textContent = 'pause';
    timer = setInterval(function () { if (k >= F.length - 1) stop(); else show(k + 1); }, Number($('anim-speed').value));
  });
  $('anim-step').addEventListener('click', function () { stop(); show(k + 1); });
  $('anim-back').addEventListener('click', function () { stop(); show(k - 1); });
  $('anim-slider').addEventListener('input', function (e) { stop(); show(Number(e.target.value)); });
  show(0);
  window.nnfpgaAnimation = { show: show, frames: F.length, index: function () { return k; } };
})();
`;
