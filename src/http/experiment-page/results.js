// The experiment results page in the browser (served as is, no build step). It asks for an API
// token once per tab (sessionStorage), reads only this server's GraphQL API, and draws one
// uPlot chart per iteration. Every text from the API goes into the page as text, never as HTML.
(function () {
  'use strict';

  var TOKEN_KEY = 'flagledger.resultsToken';
  var MAX_ITERATIONS = 20;
  var CONTROL_COLOR = '#64748b';
  var COLORS = ['#2563eb', '#16a34a', '#d97706', '#9333ea', '#dc2626', '#0891b2', '#db2777', '#65a30d', '#7c3aed'];
  var BUCKET_SECONDS = { MINUTE: 60, HOUR: 3600, DAY: 86400, WEEK: 604800 };

  var main = document.getElementById('main');
  var form = document.getElementById('token-form');
  var tokenInput = document.getElementById('token');
  var tokenError = document.getElementById('token-error');
  var title = document.getElementById('title');
  var subtitle = document.getElementById('subtitle');
  var charts = [];

  var match = /^\/experiments\/([^/]+)\/?$/.exec(location.pathname);
  var experimentId = match ? decodeURIComponent(match[1]) : null;

  function el(tag, attributes, children) {
    var node = document.createElement(tag);
    Object.keys(attributes || {}).forEach(function (name) {
      node.setAttribute(name, attributes[name]);
    });
    (children || []).forEach(function (child) {
      if (child === null || child === undefined) return;
      node.appendChild(typeof child === 'string' || typeof child === 'number' ? document.createTextNode(String(child)) : child);
    });
    return node;
  }

  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
  }

  function percent(share) {
    return (share * 100).toFixed(1) + '%';
  }

  function when(iso) {
    return iso ? new Date(iso).toISOString().replace('T', ' ').slice(0, 16) + ' UTC' : '';
  }

  function ApiError(message, code) {
    this.message = message;
    this.code = code;
  }

  function gql(query, variables) {
    return fetch('/graphql', {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/graphql-response+json, application/json',
        authorization: 'Bearer ' + sessionStorage.getItem(TOKEN_KEY),
      },
      body: JSON.stringify({ query: query, variables: variables || {} }),
    })
      .then(function (response) {
        return response.json();
      })
      .then(function (body) {
        if (body.errors && body.errors.length) {
          var first = body.errors[0];
          throw new ApiError(first.message, first.extensions && first.extensions.code);
        }
        return body.data;
      });
  }

  function askForToken(message) {
    clear(main);
    form.hidden = false;
    tokenError.textContent = message || '';
    tokenInput.focus();
  }

  form.addEventListener('submit', function (event) {
    event.preventDefault();
    var token = tokenInput.value.trim();
    if (!token) return;
    sessionStorage.setItem(TOKEN_KEY, token);
    tokenInput.value = '';
    form.hidden = true;
    load();
  });

  function load() {
    main.appendChild(el('p', { class: 'loading' }, ['Loading…']));
    (experimentId ? showExperiment(experimentId) : showList()).catch(function (error) {
      if (error instanceof ApiError && (error.code === 'UNAUTHENTICATED' || error.code === 'FORBIDDEN')) {
        sessionStorage.removeItem(TOKEN_KEY);
        askForToken(
          error.code === 'FORBIDDEN'
            ? 'This token may not read experiments: use a token with ADMIN or ANALYTICS.'
            : 'This token is not valid (revoked, or mistyped).',
        );
        return;
      }
      clear(main);
      main.appendChild(el('p', { class: 'error', role: 'alert' }, [error && error.message ? error.message : String(error)]));
    });
  }

  // ---------------------------------------------------------------------------------------
  // The list: every experiment of every project the token reads (bounded pages).

  var LIST = 'query ResultsPageList { projects(first: 50) { edges { node { name environments { name experiments { id name status feature { name } } } } } } }';

  function showList() {
    return gql(LIST).then(function (data) {
      clear(main);
      var rows = [];
      data.projects.edges.forEach(function (edge) {
        edge.node.environments.forEach(function (environment) {
          environment.experiments.forEach(function (experiment) {
            rows.push(
              el('tr', {}, [
                el('td', {}, [el('a', { href: '/experiments/' + encodeURIComponent(experiment.id) }, [experiment.name])]),
                el('td', {}, [experiment.feature.name]),
                el('td', {}, [edge.node.name + ' / ' + environment.name]),
                el('td', {}, [el('span', { class: 'badge status-' + experiment.status }, [experiment.status])]),
              ]),
            );
          });
        });
      });
      if (rows.length === 0) {
        main.appendChild(el('p', {}, ['No experiments yet: create one with createExperiment in GraphiQL.']));
        return;
      }
      main.appendChild(
        el('table', { class: 'list' }, [
          el('thead', {}, [el('tr', {}, [el('th', {}, ['Experiment']), el('th', {}, ['Feature']), el('th', {}, ['Project / environment']), el('th', {}, ['Status'])])]),
          el('tbody', {}, rows),
        ]),
      );
    });
  }

  // ---------------------------------------------------------------------------------------
  // One experiment: a header, then one section per iteration, the latest first.

  var EXPERIMENT =
    'query ResultsPageExperiment($id: ID!) { node(id: $id) { __typename ... on Experiment {' +
    ' id name hypothesis status winnerKey feature { name } environment { name project { name } }' +
    ' iterations { number startedAt stoppedAt allocation { key weight } } } } }';

  var ITERATION =
    'query ResultsPageIteration($id: ID!, $iteration: Int!) { node(id: $id) { ... on Experiment {' +
    ' results(iteration: $iteration) { iteration exposures identities conflictedIdentities' +
    '  variants { key exposures identities conflictedIdentities observedShare expectedShare } srm { pValue status } }' +
    ' timeline(iteration: $iteration) { iteration bucket starts variants { key exposures newIdentities } } } } }';

  function showExperiment(id) {
    return gql(EXPERIMENT, { id: id }).then(function (data) {
      var experiment = data.node;
      if (!experiment || experiment.__typename !== 'Experiment') {
        clear(main);
        main.appendChild(el('p', { class: 'error', role: 'alert' }, ['No experiment with this id.']));
        return;
      }
      document.title = experiment.name + ' · Experiment results · flagledger';
      title.textContent = experiment.name;
      clear(subtitle);
      subtitle.appendChild(el('span', { class: 'badge status-' + experiment.status }, [experiment.status]));
      subtitle.appendChild(
        document.createTextNode(
          ' ' + experiment.feature.name + ' in ' + experiment.environment.project.name + ' / ' + experiment.environment.name +
            (experiment.winnerKey ? ' · winner: ' + experiment.winnerKey : ''),
        ),
      );
      var iterations = experiment.iterations.slice().reverse().slice(0, MAX_ITERATIONS);
      return Promise.all(
        iterations.map(function (iteration) {
          return gql(ITERATION, { id: id, iteration: iteration.number }).then(function (result) {
            return { iteration: iteration, results: result.node.results, timeline: result.node.timeline };
          });
        }),
      ).then(function (loaded) {
        clear(main);
        charts.forEach(function (chart) {
          chart.destroy();
        });
        charts = [];
        if (experiment.hypothesis) main.appendChild(el('p', { class: 'hypothesis' }, ['Hypothesis: ' + experiment.hypothesis]));
        if (loaded.length === 0) main.appendChild(el('p', {}, ['Not started yet: startExperiment opens its first iteration.']));
        if (experiment.iterations.length > MAX_ITERATIONS) {
          main.appendChild(el('p', { class: 'hint' }, ['The latest ' + MAX_ITERATIONS + ' of ' + experiment.iterations.length + ' iterations.']));
        }
        loaded.forEach(function (part) {
          main.appendChild(iterationSection(part.iteration, part.results, part.timeline));
        });
      });
    });
  }

  var SRM_TEXT = {
    OK: 'SRM: OK',
    WARNING: 'SRM: warning',
    FAILED: 'SRM: failed',
    INSUFFICIENT_DATA: 'SRM: not enough data',
  };
  var SRM_HELP = {
    OK: 'The observed split matches the allocation.',
    WARNING: 'The split departs from the allocation (p < 0.01): check assignment, caching and reporting.',
    FAILED: 'Sample ratio mismatch (p < 0.001): the split is broken; do not trust these results before finding why.',
    INSUFFICIENT_DATA: 'Fewer than 100 identities: too early to test the split.',
  };

  function iterationSection(iteration, results, timeline) {
    var section = el('section', { class: 'iteration', 'data-iteration': String(iteration.number) });
    var srm = results.srm;
    section.appendChild(
      el('h2', {}, [
        'Iteration ' + iteration.number + ' ',
        el('span', { class: 'badge srm srm-' + srm.status, 'data-srm': srm.status, title: SRM_HELP[srm.status] }, [
          SRM_TEXT[srm.status] + (srm.pValue === null ? '' : ' (p = ' + formatP(srm.pValue) + ')'),
        ]),
      ]),
    );
    section.appendChild(
      el('p', { class: 'dates' }, [
        when(iteration.startedAt) + ' → ' + (iteration.stoppedAt ? when(iteration.stoppedAt) : 'running'),
      ]),
    );
    section.appendChild(
      el('dl', { class: 'totals' }, [
        el('div', {}, [el('dt', {}, ['Identities']), el('dd', { 'data-total': 'identities' }, [results.identities])]),
        el('div', {}, [el('dt', {}, ['Exposures']), el('dd', { 'data-total': 'exposures' }, [results.exposures])]),
        el('div', {}, [el('dt', {}, ['Conflicted identities']), el('dd', { 'data-total': 'conflictedIdentities' }, [results.conflictedIdentities])]),
      ]),
    );
    // Control in grey, the variants in the allocation's order.
    var colorOf = { control: CONTROL_COLOR };
    var next = 0;
    results.variants.concat(timeline.variants).forEach(function (variant) {
      if (!colorOf[variant.key]) colorOf[variant.key] = COLORS[next++ % COLORS.length];
    });
    section.appendChild(chartBlock(timeline, colorOf));
    section.appendChild(variantTable(results, colorOf));
    return section;
  }

  function formatP(p) {
    return p < 0.0001 ? p.toExponential(1) : p.toFixed(4);
  }

  /** Cumulative counts at each bucket's end, from 0 at the first bucket's start: always two points or more. */
  function cumulative(timeline, field) {
    var step = BUCKET_SECONDS[timeline.bucket];
    var xs = [Date.parse(timeline.starts[0]) / 1000];
    timeline.starts.forEach(function (start) {
      xs.push(Date.parse(start) / 1000 + step);
    });
    var series = timeline.variants.map(function (variant) {
      var total = 0;
      return [0].concat(
        variant[field].map(function (count) {
          total += count;
          return total;
        }),
      );
    });
    return [xs].concat(series);
  }

  function chartBlock(timeline, colorOf) {
    var block = el('div', { class: 'chart-block' });
    var name = 'metric-' + timeline.iteration;
    var choices = [
      ['newIdentities', 'Identities (by first exposure)'],
      ['exposures', 'Exposures'],
    ];
    var picker = el('fieldset', { class: 'metric' }, [el('legend', {}, ['Cumulative, per ' + timeline.bucket.toLowerCase()])]);
    var holder = el('div', { class: 'chart', 'data-bucket': timeline.bucket });
    var chart = null;
    function draw(field) {
      if (chart) {
        charts.splice(charts.indexOf(chart), 1);
        chart.destroy();
      }
      var width = Math.max(320, Math.min(block.clientWidth || main.clientWidth || 900, 1100));
      chart = new uPlot(
        {
          width: width,
          height: 280,
          scales: { x: { time: true }, y: { range: function (u, min, max) { return [0, Math.max(1, max)]; } } },
          axes: [{}, { label: field === 'exposures' ? 'exposures' : 'identities', size: 60 }],
          series: [{ label: 'time' }].concat(
            timeline.variants.map(function (variant) {
              return { label: variant.key, stroke: colorOf[variant.key], width: 2, points: { show: false } };
            }),
          ),
        },
        cumulative(timeline, field),
        holder,
      );
      charts.push(chart);
    }
    choices.forEach(function (choice, index) {
      var input = el('input', { type: 'radio', name: name, value: choice[0], id: name + '-' + choice[0] });
      if (index === 0) input.checked = true;
      input.addEventListener('change', function () {
        if (input.checked) draw(choice[0]);
      });
      picker.appendChild(el('label', { for: name + '-' + choice[0] }, [input, ' ' + choice[1]]));
    });
    block.appendChild(picker);
    block.appendChild(holder);
    // Drawn once the block is in the page, so it knows its width.
    requestAnimationFrame(function () {
      draw('newIdentities');
    });
    return block;
  }

  function variantTable(results, colorOf) {
    var rows = results.variants.map(function (variant) {
      var bar = el('div', { class: 'bar' }, [el('span', { class: 'observed' }), el('span', { class: 'expected' })]);
      bar.firstChild.style.width = Math.min(100, variant.observedShare * 100) + '%';
      bar.firstChild.style.background = colorOf[variant.key];
      bar.lastChild.style.left = Math.min(100, variant.expectedShare * 100) + '%';
      var swatch = el('span', { class: 'swatch' });
      swatch.style.background = colorOf[variant.key];
      return el('tr', { 'data-key': variant.key }, [
        el('th', { scope: 'row' }, [swatch, ' ' + variant.key]),
        el('td', { 'data-field': 'expectedShare' }, [percent(variant.expectedShare)]),
        el('td', { 'data-field': 'observedShare' }, [percent(variant.observedShare)]),
        el('td', { class: 'bar-cell' }, [bar]),
        el('td', { 'data-field': 'identities' }, [variant.identities]),
        el('td', { 'data-field': 'exposures' }, [variant.exposures]),
        el('td', { 'data-field': 'conflictedIdentities' }, [variant.conflictedIdentities]),
      ]);
    });
    return el('table', { class: 'variants' }, [
      el('thead', {}, [
        el('tr', {}, [
          el('th', {}, ['Variant']),
          el('th', {}, ['Expected share']),
          el('th', {}, ['Observed share']),
          el('th', { title: 'Bar: observed share; tick: expected share' }, ['Observed vs expected']),
          el('th', {}, ['Identities']),
          el('th', {}, ['Exposures']),
          el('th', { title: 'Identities first exposed to this variant that also saw another one' }, ['Conflicted']),
        ]),
      ]),
      el('tbody', {}, rows),
    ]);
  }

  if (sessionStorage.getItem(TOKEN_KEY)) load();
  else askForToken();
})();
