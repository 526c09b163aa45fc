// The operator's database page: refreshes the numbers from
// /debug/db?format=json without reloading, and runs the actions after a
// confirmation. No framework: elements say what they show with data-k (a
// JSON path), data-f (a format, as in format.go) and data-list (a list whose
// rows are cloned from <template id="row-...">).
(function () {
  'use strict';

  var body = document.body;
  var refreshSeconds = Number(body.dataset.refresh) || 0;
  var canAct = body.dataset.canAct === 'true';
  var csrfMeta = document.querySelector('meta[name="csrf-token"]');
  var csrf = csrfMeta ? csrfMeta.content : '';
  var live = document.getElementById('live');
  var updated = document.getElementById('updated');
  var pauseButton = document.getElementById('pause');
  var timer = null;
  var paused = false;
  var stopped = false;

  // Formats: keep in step with format.go.
  function dash(v) { return v === null || v === undefined; }
  function groups(s) {
    var neg = s.charAt(0) === '-';
    if (neg) { s = s.slice(1); }
    var out = '';
    for (var i = 0; i < s.length; i++) {
      if (i > 0 && (s.length - i) % 3 === 0) { out += ','; }
      out += s.charAt(i);
    }
    return (neg ? '-' : '') + out;
  }
  function seconds(s) {
    if (s === 0) { return '0 s'; }
    if (s < 0.001) { return Math.round(s * 1e6) + ' µs'; }
    if (s < 1) { return Math.round(s * 1e3) + ' ms'; }
    if (s < 60) { return Number.isInteger(s) ? s + ' s' : s.toFixed(1) + ' s'; }
    var t = Math.trunc(s);
    if (t < 3600) { return Math.trunc(t / 60) + 'm ' + (t % 60) + 's'; }
    if (t < 86400) { return Math.trunc(t / 3600) + 'h ' + Math.trunc(t % 3600 / 60) + 'm'; }
    return Math.trunc(t / 86400) + 'd ' + Math.trunc(t % 86400 / 3600) + 'h';
  }
  function iso(v) { return new Date(v).toISOString(); }
  var fmt = {
    text: function (v) { return dash(v) ? '' : String(v); },
    int: function (v) {
      if (dash(v)) { return '—'; }
      if (typeof v === 'bigint') { return groups(v.toString()); }
      return groups(String(Math.round(Number(v))));
    },
    rows: function (v) { return dash(v) || Number(v) < 0 ? '—' : fmt.int(v); },
    bytes: function (v) {
      if (dash(v)) { return '—'; }
      var n = Number(v);
      if (Math.abs(n) < 1024) { return Math.trunc(n) + ' B'; }
      var units = ['kB', 'MB', 'GB', 'TB', 'PB'];
      var i = -1;
      while (Math.abs(n) >= 1024 && i < units.length - 1) { n /= 1024; i++; }
      return n.toFixed(1) + ' ' + units[i];
    },
    dur: function (v) { return dash(v) ? '—' : seconds(Number(v) / 1e9); },
    ms: function (v) {
      if (dash(v)) { return '—'; }
      var n = Number(v);
      if (n < 1) { return n.toFixed(2) + ' ms'; }
      if (n < 1000) { return n.toFixed(1) + ' ms'; }
      return seconds(n / 1000);
    },
    pct: function (v) { return dash(v) ? '—' : Number(v).toFixed(1) + '%'; },
    pct2: function (v) { return dash(v) ? '—' : Number(v).toFixed(2) + '%'; },
    ratio: function (v) { return dash(v) ? '—' : (Number(v) * 100).toFixed(1) + '%'; },
    ago: function (v) {
      if (dash(v) || v === '0001-01-01T00:00:00Z') { return 'never'; }
      var d = Math.max(0, (Date.now() - Date.parse(v)) / 1000);
      if (d < 60) { return Math.trunc(d) + 's ago'; }
      if (d < 3600) { return Math.trunc(d / 60) + 'm ago'; }
      if (d < 86400) { return Math.trunc(d / 3600) + 'h ago'; }
      return Math.trunc(d / 86400) + 'd ago';
    },
    time: function (v) { return dash(v) ? '—' : iso(v).slice(0, 19).replace('T', ' ') + ' UTC'; },
    clock: function (v) { return dash(v) ? '—' : iso(v).slice(11, 19) + ' UTC'; },
    bool: function (v) { return v ? 'yes' : 'no'; },
    list: function (v) { return v && v.length ? v.join(', ') : 'none'; },
    len: function (v) { return String(v ? v.length : 0); },
    times: function (v) { return v > 1 ? '×' + v : ''; }
  };

  // get reads a dotted path of obj.
  function get(obj, path) {
    var parts = path.split('.');
    for (var i = 0; i < parts.length; i++) {
      if (obj === null || obj === undefined) { return undefined; }
      obj = obj[parts[i]];
    }
    return obj;
  }

  // show writes a value into an element in its format.
  function show(el, data) {
    var k = el.dataset.k;
    var f = el.dataset.f || 'text';
    var v;
    if (f === 'latest') {
      v = k.split(',').map(function (p) { return get(data, p); }).filter(Boolean).sort().pop();
      el.textContent = fmt.ago(v);
      return;
    }
    v = get(data, k);
    if (v === undefined) { return; }
    switch (f) {
      case 'progress':
        el.value = Number(v) || 0;
        if (el.dataset.hot) { el.classList.toggle('hot', el.value >= Number(el.dataset.hot)); }
        return;
      case 'badge':
        el.textContent = fmt.text(v);
        el.className = 'badge st-' + v;
        return;
      case 'state':
        el.textContent = fmt.text(v);
        el.className = 'pill state-' + v;
        return;
      case 'low':
        el.textContent = v ? 'low' : 'ok';
        el.className = 'badge st-' + (v ? 'fail' : 'ok');
        return;
    }
    var text = (fmt[f] || fmt.text)(v);
    if (el.textContent !== text) { el.textContent = text; }
  }

  // fillRow writes an item into a row: its data-k cells, data-set
  // attributes and data-show visibility.
  function fillRow(row, item) {
    var els = [row].concat(Array.prototype.slice.call(row.querySelectorAll('[data-k],[data-set],[data-show]')));
    els.forEach(function (el) {
      if (!el.dataset) { return; }
      if (el.dataset.k) { show(el, item); }
      if (el.dataset.set) {
        el.dataset.set.split(',').forEach(function (pair) {
          var kv = pair.split('=');
          var v = get(item, kv[1]);
          el.setAttribute(kv[0], dash(v) ? '' : String(v));
        });
      }
      if (el.dataset.show) { el.hidden = !get(item, el.dataset.show); }
    });
  }

  // matches applies a list's data-filter: "key=a|b;key!=c".
  function matches(item, filter) {
    if (!filter) { return true; }
    return filter.split(';').every(function (cond) {
      var neg = cond.indexOf('!=') >= 0;
      var kv = cond.split(neg ? '!=' : '=');
      var hit = kv[1].split('|').indexOf(String(get(item, kv[0]))) >= 0;
      return neg ? !hit : hit;
    });
  }

  // renderList refreshes a list: rows are filled in place while their
  // number is unchanged (open details stay open), rebuilt otherwise.
  function renderList(container, data) {
    var items = get(data, container.dataset.list);
    if (items === undefined) { return; }
    items = (items || []).filter(function (it) { return matches(it, container.dataset.filter); });
    var rows = Array.prototype.filter.call(container.children, function (c) { return !c.classList.contains('empty'); });
    if (rows.length === items.length && !(items.length === 0 && container.querySelector('.empty') === null && container.dataset.empty)) {
      rows.forEach(function (row, i) { fillRow(row, items[i]); });
      return;
    }
    var tpl = document.getElementById(container.dataset.row);
    var nodes = items.map(function (item) {
      var row = tpl.content.firstElementChild.cloneNode(true);
      fillRow(row, item);
      return row;
    });
    if (items.length === 0 && container.dataset.empty) {
      var isTable = container.tagName === 'TBODY';
      var empty = document.createElement(isTable ? 'tr' : 'li');
      empty.className = 'empty';
      if (isTable) {
        var td = document.createElement('td');
        td.colSpan = Number(container.dataset.cols) || 1;
        td.textContent = container.dataset.empty;
        empty.appendChild(td);
      } else {
        empty.textContent = container.dataset.empty;
      }
      nodes = [empty];
    }
    container.replaceChildren.apply(container, nodes);
  }

  // apply shows a whole report.
  function apply(data) {
    document.querySelectorAll('[data-k]').forEach(function (el) {
      if (!el.closest('[data-list]')) { show(el, data); }
    });
    document.querySelectorAll('[data-list]').forEach(function (c) { renderList(c, data); });
    permissions();
  }

  // permissions disables the actions that need the admin key when the
  // page was opened with the ops token.
  function permissions() {
    if (canAct) { return; }
    document.querySelectorAll('button.act:not(.ro)').forEach(function (b) {
      b.disabled = true;
      b.title = 'Needs the admin key: sign out and sign in with it';
    });
  }

  // parse reads JSON, keeping integers beyond 2^53 exact (as BigInt).
  function parse(text) {
    return JSON.parse(text, function (key, value, context) {
      if (typeof value === 'number' && !Number.isSafeInteger(value) && Number.isInteger(value) &&
          context && /^-?\d+$/.test(context.source || '')) {
        return BigInt(context.source);
      }
      return value;
    });
  }

  function status(text, cls) {
    if (updated) { updated.textContent = text; }
    if (live) { live.className = 'live' + (cls ? ' ' + cls : ''); }
  }

  // refresh fetches the report and shows it.
  function refresh() {
    clearTimeout(timer);
    if (stopped) { return Promise.resolve(); }
    return fetch(window.location.pathname + '?format=json', {
      headers: { Accept: 'application/json' }, credentials: 'same-origin', cache: 'no-store'
    }).then(function (res) {
      if (res.status === 401) {
        stopped = true;
        status('signed out: reload the page to sign in', 'stale');
        return null;
      }
      if (!res.ok) { throw new Error('HTTP ' + res.status); }
      return res.text();
    }).then(function (text) {
      if (text === null) { return; }
      var data = parse(text);
      apply(data);
      status('updated ' + fmt.clock(data.generated_at), paused ? 'paused' : '');
    }).catch(function (err) {
      status('refresh failed (' + err.message + '); retrying', 'stale');
    }).then(schedule);
  }

  function schedule() {
    clearTimeout(timer);
    if (!paused && !stopped && refreshSeconds > 0) {
      timer = setTimeout(refresh, refreshSeconds * 1000);
    }
  }

  // The confirmation dialog.
  var dialog = document.getElementById('confirm');
  var texts = {
    cancel: function (a) { return ['Cancel the statement of session ' + a.pid + '?', 'Its statement stops and its transaction fails; the session stays connected.']; },
    terminate: function (a) { return ['Terminate session ' + a.pid + '?', 'Its transaction rolls back and its connection closes.']; },
    analyze: function (a) { return ['ANALYZE ' + a.table + '?', 'It reads a sample of the table to refresh the planner\'s statistics.']; },
    reset_statements: function () { return ['Reset pg_stat_statements?', 'The statistics of every statement, of every database of the server, start again from zero.']; },
    integrity_check: function () { return ['Run integrity_check?', 'It reads every page of the database file: seconds on a large database.']; }
  };
  function confirmAction(a) {
    return new Promise(function (resolve) {
      var t = (texts[a.action] || function () { return [a.action + '?', '']; })(a);
      document.getElementById('confirm-title').textContent = t[0];
      document.getElementById('confirm-text').textContent = t[1];
      dialog.returnValue = '';
      dialog.addEventListener('close', function onClose() {
        dialog.removeEventListener('close', onClose);
        resolve(dialog.returnValue === 'ok');
      });
      dialog.showModal();
    });
  }

  var toastTimer = null;
  function toast(text, bad) {
    var el = document.getElementById('toast');
    el.textContent = text;
    el.className = 'show' + (bad ? ' bad' : '');
    clearTimeout(toastTimer);
    toastTimer = setTimeout(function () { el.className = ''; }, 6000);
  }

  // run posts a confirmed action.
  function run(a) {
    a.confirm = true;
    return fetch('/debug/db/actions', {
      method: 'POST', credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf },
      body: JSON.stringify(a)
    }).then(function (res) {
      return res.json().then(function (body) { return { ok: res.ok, body: body }; });
    }).then(function (r) {
      if (!r.ok) {
        toast(r.body.error || 'the action failed', true);
        return;
      }
      toast(r.body.message);
      if (r.body.integrity) {
        var out = document.getElementById('integrity-output');
        if (out) { out.textContent = r.body.integrity.join('\n'); out.hidden = false; }
      }
      return refresh();
    }).catch(function (err) { toast('the action failed: ' + err.message, true); });
  }

  document.addEventListener('click', function (e) {
    var b = e.target.closest('button.act');
    if (!b || b.disabled) { return; }
    var a = { action: b.dataset.action };
    if (b.dataset.pid) { a.pid = Number(b.dataset.pid); }
    if (a.action === 'analyze') {
      if (b.dataset.from) {
        a.table = document.getElementById(b.dataset.from).value;
      } else {
        a.table = b.dataset.schema ? b.dataset.schema + '.' + b.dataset.name : b.dataset.name;
      }
    }
    confirmAction(a).then(function (ok) { if (ok) { run(a); } });
  });

  document.getElementById('refresh').addEventListener('click', function () { stopped = false; refresh(); });
  if (pauseButton) {
    pauseButton.addEventListener('click', function () {
      paused = !paused;
      pauseButton.textContent = paused ? 'Resume' : 'Pause';
      if (live) { live.classList.toggle('paused', paused); }
      if (paused) { clearTimeout(timer); } else { refresh(); }
    });
  }

  permissions();
  schedule();
})();
