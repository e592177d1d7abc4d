/* The process designer: bpmn-js over /api/v1/process-definitions (session cookie + CSRF). */
(function () {
  'use strict';

  var API = '/api/v1/process-definitions';
  var text = JSON.parse(document.getElementById('lapor-text').textContent);
  var csrf = document.querySelector('meta[name="csrf-token"]').content;
  var modeler = new window.BpmnJS({ container: '#canvas' });
  var definitions = [];
  var current = null; // {key, version}
  var markers = []; // [elementId, className]

  window.laporModeler = modeler; // for people debugging in the console, and for browser tests

  function $(id) { return document.getElementById(id); }

  function say(template, values) {
    return template.replace(/\{(\w+)\}/g, function (whole, name) {
      return values && name in values ? String(values[name]) : whole;
    });
  }

  function status(message, kind) {
    var line = $('status');
    line.textContent = message;
    line.className = kind || '';
  }

  function request(method, url, xml) {
    var headers = { 'Accept': 'application/json, application/xml', 'X-CSRF-Token': csrf };
    if (xml !== undefined) { headers['Content-Type'] = 'application/xml'; }
    return fetch(url, { method: method, headers: headers, body: xml, credentials: 'same-origin' })
      .then(function (response) {
        var type = response.headers.get('Content-Type') || '';
        var body = type.indexOf('json') >= 0 ? response.json() : response.text();
        return body.then(function (data) {
          return { status: response.status, ok: response.ok, data: data };
        });
      });
  }

  function detailOf(answer) {
    var data = answer.data;
    return (data && (data.detail || data.title)) || String(answer.status);
  }

  function el(tag, attributes, children) {
    var node = document.createElement(tag);
    Object.keys(attributes || {}).forEach(function (name) {
      if (name === 'text') { node.textContent = attributes[name]; }
      else { node.setAttribute(name, attributes[name]); }
    });
    (children || []).forEach(function (child) { node.appendChild(child); });
    return node;
  }

  /* The list of definitions and their versions. */

  function renderDefinitions() {
    var list = $('definitions');
    list.replaceChildren();
    definitions.forEach(function (definition) {
      var versions = definition.versions.slice().sort(function (a, b) { return a.version - b.version; });
      var buttons = versions.map(function (v) {
        var open = current && current.key === definition.key && current.version === v.version;
        var about = [v.created_at || '', say(text.running, { count: v.running_instances || 0 })];
        if (v.current) { about.push(text.currentVersion); }
        return el('button', {
          type: 'button', 'class': 'version' + (open ? ' open' : '') + (v.current ? ' current' : ''),
          'data-key': definition.key, 'data-version': String(v.version),
          title: about.join(' · '), text: 'v' + v.version
        });
      });
      list.appendChild(el('li', { 'data-key': definition.key }, [
        el('strong', { text: definition.key }),
        el('span', {
          'class': 'scope',
          text: ' ' + definition.kind + ' · ' + (definition.instansi || text.national)
        }),
        el('div', { 'class': 'versions' }, buttons)
      ]));
    });
    renderCompareChoices();
  }

  function loadDefinitions() {
    return request('GET', API).then(function (answer) {
      if (!answer.ok) { status(say(text.requestFailed, { status: answer.status, detail: detailOf(answer) }), 'error'); return; }
      definitions = answer.data;
      renderDefinitions();
    });
  }

  function versionsOf(key) {
    var found = definitionOf(key);
    return found ? found.versions.map(function (v) { return v.version; }).sort(function (a, b) { return a - b; }) : [];
  }

  function renderCompareChoices() {
    var versions = current ? versionsOf(current.key) : [];
    ['compare-a', 'compare-b'].forEach(function (id, index) {
      var select = $(id);
      var keep = select.value;
      select.replaceChildren();
      versions.forEach(function (v) { select.appendChild(el('option', { value: String(v), text: 'v' + v })); });
      if (keep && versions.indexOf(Number(keep)) >= 0) { select.value = keep; }
      else if (versions.length) {
        select.value = String(index === 0 ? versions[Math.max(0, versions.length - 2)] : versions[versions.length - 1]);
      }
    });
  }

  function xmlUrl(key, version) {
    return API + '/' + encodeURIComponent(key) + '/versions/' + version + '/xml';
  }

  function fetchXml(key, version) {
    return request('GET', xmlUrl(key, version)).then(function (answer) {
      if (!answer.ok) { throw new Error(detailOf(answer)); }
      return answer.data;
    });
  }

  function definitionOf(key) {
    return definitions.filter(function (d) { return d.key === key; })[0];
  }

  function show(key, version, xml) {
    return modeler.importXML(xml).then(function () {
      var definition = definitionOf(key) || {};
      markers = [];
      current = { key: key, version: version };
      $('current').textContent = key + ' · v' + version;
      // deploying targets the SOP of an instansi (or the national default): keep it the same
      // key by default; the intake process is not deployed from here
      $('instansi').value = definition.instansi || '';
      $('deploy').disabled = definition.kind !== 'sop';
      updateRollback();
      modeler.get('canvas').zoom('fit-viewport');
      renderDefinitions();
    });
  }

  function open(key, version) {
    status(text.loading);
    clearProblems();
    $('differences').replaceChildren();
    return fetchXml(key, version)
      .then(function (xml) { return show(key, version, xml); })
      .then(function () { status(say(text.opened, { key: key, version: version }), 'ok'); })
      .catch(function (err) { status(say(text.openFailed, { detail: err.message }), 'error'); });
  }

  /* Markers and overlays on diagram elements. */

  function mark(id, className, note) {
    var registry = modeler.get('elementRegistry');
    if (!id || !registry.get(id)) { return false; }
    modeler.get('canvas').addMarker(id, className);
    markers.push([id, className]);
    if (note) {
      modeler.get('overlays').add(id, 'lapor', {
        position: { top: -12, right: 12 },
        html: el('span', { 'class': 'lapor-badge ' + className, title: note, text: '!' })
      });
    }
    return true;
  }

  function clearMarks() {
    var canvas = modeler.get('canvas'), registry = modeler.get('elementRegistry');
    markers.forEach(function (m) { // the element may have been deleted (or undone) since
      if (registry.get(m[0])) { canvas.removeMarker(m[0], m[1]); }
    });
    markers = [];
    modeler.get('overlays').remove({ type: 'lapor' });
  }

  function clearProblems() {
    clearMarks();
    $('problems').replaceChildren();
  }

  function showProblems(errors, warnings) {
    clearProblems();
    var list = $('problems');
    [[errors || [], 'lapor-error', text.error], [warnings || [], 'lapor-warning', text.warning]]
      .forEach(function (group) {
        group[0].forEach(function (problem) {
          mark(problem.element_id, group[1], problem.message);
          var where = [problem.element_id, problem.line ? say(text.line, { line: problem.line }) : '']
            .filter(Boolean).join(', ');
          list.appendChild(el('li', {
            'class': group[1], 'data-element': problem.element_id || '',
            text: group[2] + (where ? ' (' + where + ')' : '') + ': ' + problem.message
          }));
        });
      });
  }

  /* Validate and deploy the diagram in the modeler. */

  function currentXml() {
    return modeler.saveXML({ format: true }).then(function (result) { return result.xml; });
  }

  function validate() {
    if (!current) { status(text.nothingOpen, 'error'); return Promise.resolve(); }
    return currentXml()
      .then(function (xml) { return request('POST', API + '/validate', xml); })
      .then(function (answer) {
        if (!answer.ok) { status(say(text.requestFailed, { status: answer.status, detail: detailOf(answer) }), 'error'); return; }
        showProblems(answer.data.errors, answer.data.warnings);
        if (answer.data.valid) { status(text.valid, 'ok'); }
        else { status(say(text.invalid, { count: answer.data.errors.length }), 'error'); }
      });
  }

  /* Roll back: make the opened (earlier) version the one new reports start on. */

  function openedVersion() {
    var definition = current && definitionOf(current.key);
    if (!definition) { return null; }
    return definition.versions.filter(function (v) { return v.version === current.version; })[0] || null;
  }

  function updateRollback() {
    var definition = current && definitionOf(current.key);
    var opened = openedVersion();
    $('rollback').disabled = !definition || definition.kind !== 'sop' || !opened || opened.current;
  }

  function rollback() {
    if (!current) { status(text.nothingOpen, 'error'); return Promise.resolve(); }
    var key = current.key, version = current.version;
    var url = API + '/' + encodeURIComponent(key) + '/versions/' + version + '/rollback';
    return request('POST', url).then(function (answer) {
      if (!answer.ok) { status(say(text.rollbackFailed, { detail: detailOf(answer) }), 'error'); return; }
      return loadDefinitions().then(function () {
        updateRollback();
        status(say(text.rolledBack, { key: key, version: version }), 'ok');
      });
    });
  }

  function deploy() {
    if (!current) { status(text.nothingOpen, 'error'); return Promise.resolve(); }
    var instansi = $('instansi').value.trim();
    var url = API + (instansi ? '?instansi=' + encodeURIComponent(instansi) : '');
    return currentXml()
      .then(function (xml) { return request('POST', url, xml); })
      .then(function (answer) {
        if (answer.status === 422 && answer.data) {
          showProblems(answer.data.errors, answer.data.warnings);
          status(say(text.deployFailed, { detail: detailOf(answer) }), 'error');
          return;
        }
        if (!answer.ok) { status(say(text.deployFailed, { detail: detailOf(answer) }), 'error'); return; }
        var made = answer.data;
        showProblems([], made.warnings);
        current = { key: made.key, version: made.version };
        $('current').textContent = made.key + ' · v' + made.version;
        return loadDefinitions().then(function () {
          status(say(made.created ? text.deployed : text.unchanged, made), 'ok');
        });
      });
  }

  /* Compare two versions: elements added, removed, renamed (same id) or re-identified (same name). */

  function elementsOf(xml) {
    return modeler.get('moddle').fromXML(xml, 'bpmn:Definitions').then(function (result) {
      var found = {};
      function visit(owner) {
        (owner.flowElements || []).concat(owner.participants || [], owner.messageFlows || [])
          .forEach(function (item) {
            found[item.id] = { id: item.id, type: item.$type.replace('bpmn:', ''), name: item.name || '' };
            visit(item);
          });
      }
      (result.rootElement.rootElements || []).forEach(visit);
      return found;
    });
  }

  function differences(before, after) {
    var added = [], removed = [], renamed = [], retyped = [], reidentified = [];
    Object.keys(after).forEach(function (id) {
      var b = after[id], a = before[id];
      if (!a) { added.push(b); return; }
      if (a.type !== b.type) { retyped.push({ id: id, from: a.type, to: b.type }); }
      if (a.name !== b.name) { renamed.push({ id: id, from: a.name, to: b.name }); }
    });
    Object.keys(before).forEach(function (id) { if (!after[id]) { removed.push(before[id]); } });
    added.slice().forEach(function (b) { // an id changed but type and name stayed: pair them up
      var match = removed.filter(function (a) { return b.name && a.name === b.name && a.type === b.type; })[0];
      if (match) {
        reidentified.push({ id: b.id, from: match.id, to: b.id, name: b.name });
        added.splice(added.indexOf(b), 1);
        removed.splice(removed.indexOf(match), 1);
      }
    });
    return { added: added, removed: removed, renamed: renamed, retyped: retyped, reidentified: reidentified };
  }

  function showDifferences(diff) {
    var list = $('differences');
    list.replaceChildren();
    function row(kind, label, textLine, id) {
      list.appendChild(el('li', { 'class': 'diff-' + kind, 'data-kind': kind, 'data-element': id, text: label + ': ' + textLine }));
    }
    diff.added.forEach(function (e) { row('added', text.added, e.id + ' (' + e.type + (e.name ? ' "' + e.name + '"' : '') + ')', e.id); mark(e.id, 'lapor-added'); });
    diff.removed.forEach(function (e) { row('removed', text.removed, e.id + ' (' + e.type + (e.name ? ' "' + e.name + '"' : '') + ')', e.id); });
    diff.renamed.forEach(function (e) { row('renamed', text.renamed, e.id + ': "' + e.from + '" → "' + e.to + '"', e.id); mark(e.id, 'lapor-renamed'); });
    diff.retyped.forEach(function (e) { row('retyped', text.retyped, e.id + ': ' + e.from + ' → ' + e.to, e.id); mark(e.id, 'lapor-renamed'); });
    diff.reidentified.forEach(function (e) { row('reidentified', text.reidentified, e.from + ' → ' + e.to + ' ("' + e.name + '")', e.id); mark(e.id, 'lapor-renamed'); });
    if (!list.children.length) { list.appendChild(el('li', { text: text.noDifferences })); }
  }

  function compare() {
    if (!current) { status(text.nothingOpen, 'error'); return Promise.resolve(); }
    var key = current.key, a = Number($('compare-a').value), b = Number($('compare-b').value);
    status(text.loading);
    return Promise.all([fetchXml(key, a), fetchXml(key, b)])
      .then(function (xmls) {
        return Promise.all([elementsOf(xmls[0]), elementsOf(xmls[1])]).then(function (sets) {
          return show(key, b, xmls[1]).then(function () {
            clearProblems();
            showDifferences(differences(sets[0], sets[1]));
            status(say(text.compared, { key: key, a: a, b: b }), 'ok');
          });
        });
      })
      .catch(function (err) { status(say(text.openFailed, { detail: err.message }), 'error'); });
  }

  $('definitions').addEventListener('click', function (event) {
    var button = event.target.closest('button.version');
    if (button) { open(button.getAttribute('data-key'), Number(button.getAttribute('data-version'))); }
  });
  $('validate').addEventListener('click', validate);
  $('deploy').addEventListener('click', deploy);
  $('compare').addEventListener('click', compare);
  $('rollback').addEventListener('click', rollback);

  loadDefinitions();
}());
