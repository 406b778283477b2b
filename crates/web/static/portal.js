// Vendor portal: saves answers as they are given and shows or hides
// conditional questions from the server's answer. Without this script the
// Save button does the same with a page reload.
(function () {
  'use strict';
  function start() {
    var form = document.getElementById('portal-form');
    if (!form) { return; }
    var status = document.getElementById('save-status');
    var progress = document.getElementById('progress');
    var bar = document.getElementById('progress-bar');
    var timer = null;
    // One save at a time, so answers reach the server (and its replies the
    // page) in the order they were given; a change made while a save is in
    // flight is saved right after it.
    var pending = null;
    var again = false;

    function apply(result) {
      if (result.visibility) {
        Object.keys(result.visibility).forEach(function (id) {
          var shown = result.visibility[id];
          var q = document.getElementById('question-' + id);
          if (q) { q.hidden = !shown; }
          var up = document.getElementById('upload-' + id);
          if (up) { up.hidden = !shown; }
        });
      }
      if (typeof result.progress === 'string') { progress.textContent = result.progress; }
      if (bar && typeof result.visible === 'number') {
        bar.max = result.visible;
        bar.value = result.answered;
      }
      document.querySelectorAll('.question .error.live').forEach(function (e) { e.remove(); });
      if (result.problems) {
        Object.keys(result.problems).forEach(function (id) {
          var q = document.getElementById('question-' + id);
          if (!q) { return; }
          var p = document.createElement('p');
          p.className = 'error live';
          p.setAttribute('role', 'alert');
          p.textContent = result.problems[id];
          q.appendChild(p);
        });
      }
    }

    // Whether nothing is waiting to be saved after the save now finishing.
    function settled() { return !again && !timer; }

    function save() {
      // A save reads the whole form, so it covers any change still waiting.
      if (timer) { clearTimeout(timer); }
      timer = null;
      if (pending) { again = true; return; }
      var body = new URLSearchParams(new FormData(form));
      status.textContent = '…';
      pending = fetch(form.action, {
        method: 'POST',
        body: body,
        headers: { 'Accept': 'application/json' },
        credentials: 'omit'
      }).then(function (r) {
        return r.json().then(function (j) {
          apply(j);
          if (settled()) {
            status.textContent = r.ok ? form.dataset.saved : (j.error || form.dataset.failed);
            form.dataset.state = r.ok ? 'saved' : 'error';
          }
        });
      }).catch(function () {
        if (settled()) {
          status.textContent = form.dataset.failed;
          form.dataset.state = 'error';
        }
      }).then(function () {
        pending = null;
        if (again) { again = false; save(); }
      });
    }

    function later(ms) {
      form.dataset.state = 'dirty';
      if (timer) { clearTimeout(timer); }
      timer = setTimeout(save, ms);
    }

    form.addEventListener('change', function () { later(150); });
    form.addEventListener('input', function (e) {
      if (e.target.tagName === 'TEXTAREA' || e.target.type === 'number') { later(800); }
    });
  }
  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', start);
  } else {
    start();
  }
}());
