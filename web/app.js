// @ts-check
// PolicyKB page: hash routes, plain DOM. Document text is untrusted — every
// piece of it goes into the page through text nodes (h() below), never as
// markup, so a <script> or onerror= inside a document stays visible text.

// Response types come from the API contract (server/contract/), so `npm test` (tsconfig.web.json) fails when the
// page reads a field the server no longer sends.
/** @template {import('../server/contract/index.ts').RouteContract} C @typedef {import('../server/contract/index.ts').RouteResponse<C>} Response */
/** @typedef {Response<typeof import('../server/contract/system.ts').healthRoute>} Health */
/** @typedef {Response<typeof import('../server/contract/search.ts').askRoute>} AskResult */
/** @typedef {Response<typeof import('../server/contract/search.ts').searchRoute>} SearchResult */
/** @typedef {Response<typeof import('../server/contract/documents.ts').documentRoute>} DocumentResult */
/** @typedef {Response<typeof import('../server/contract/documents.ts').listDocumentsRoute>} DocumentPage */
/** @typedef {Response<typeof import('../server/contract/documents.ts').uploadRoute>} UploadResult */
/** @typedef {Response<typeof import('../server/contract/precedents.ts').precedentsRoute>} PrecedentsResult */
/** @typedef {Response<typeof import('../server/contract/precedents.ts').proposalTextRoute>} ProposalText */
/** @typedef {SearchResult['hits'][number]} Hit */
/** @typedef {AskResult['citations'][number]} AnswerCitation */
/** @typedef {{ json?: unknown, method?: string, body?: BodyInit, headers?: Record<string, string> }} ApiOptions */

const KIND_LABELS = {
  'proposal-reply': '提案答复',
  'suggestion-reply': '建议答复',
  'message-reply': '留言答复',
  policy: '政策文件',
  other: '其他',
};
const REPLY_KINDS = 'proposal-reply,suggestion-reply,message-reply';
const EXAMPLES = ['高校毕业生留在本省就业有哪些支持政策？', '城区内涝治理采取了哪些措施？', '普惠性民办幼儿园如何认定？'];

const view = /** @type {HTMLElement} */ (document.getElementById('view'));
const banner = /** @type {HTMLElement} */ (document.getElementById('banner'));
/** @type {Health | null} */
let health = null;
/** @type {ReturnType<typeof setTimeout> | undefined} */
let healthTimer = undefined;

// ---------------------------------------------------------------------------
// DOM helpers

/**
 * Create an element; string children become text nodes, so callers cannot inject markup.
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Record<string, any>} [attrs]
 * @param {...unknown} children
 * @returns {HTMLElementTagNameMap[K]}
 */
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') el.className = value;
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
    else if (key === 'href') el.setAttribute('href', safeHref(value));
    // CSSOM, not a style attribute: the page's CSP forbids inline style attributes.
    else if (key === 'style' && typeof value === 'object') Object.assign(el.style, value);
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

/** Only our own routes and API paths are ever linked. */
function safeHref(href) {
  return /^(#\/|api\/|\/api\/)/.test(href) ? href : '#/';
}

/** @param {unknown} err */
function messageOf(err) {
  return err instanceof Error ? err.message : String(err);
}

function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

/** `text` with [start, end) ranges wrapped in <mark>, as text nodes. */
function highlighted(text, ranges, className = '') {
  const frag = document.createDocumentFragment();
  const sorted = [...(ranges || [])]
    .filter((r) => Array.isArray(r) && r[1] > r[0])
    .sort((a, b) => a[0] - b[0]);
  let at = 0;
  for (const [start, end] of sorted) {
    const s = Math.max(start, at);
    if (s >= end) continue;
    if (s > at) frag.append(document.createTextNode(text.slice(at, s)));
    frag.append(h('mark', { class: className }, text.slice(s, end)));
    at = end;
  }
  if (at < text.length) frag.append(document.createTextNode(text.slice(at)));
  return frag;
}

function pagesLabel(pages) {
  if (!Array.isArray(pages)) return '';
  return pages[0] === pages[1] ? `第${pages[0]}页` : `第${pages[0]}–${pages[1]}页`;
}

function kindLabel(kind) {
  return KIND_LABELS[kind] || kind || '';
}

function docHref(documentId, params = {}) {
  const query = new URLSearchParams(Object.entries(params).filter(([, v]) => v !== undefined && v !== null)).toString();
  return `#/doc/${encodeURIComponent(documentId)}${query ? `?${query}` : ''}`;
}

function fileHref(documentId) {
  return `api/documents/${encodeURIComponent(documentId)}/file`;
}

function headingTrail(path) {
  if (!path || path.length === 0) return null;
  return h('span', { class: 'heading-path', title: path.join(' › ') }, path.join(' › '));
}

function metaLine(items) {
  return h('div', { class: 'meta' }, items.filter(Boolean).map((item) => h('span', { class: 'meta-item' }, item)));
}

function errorBox(message) {
  return h('div', { class: 'alert alert-error', role: 'alert' }, message);
}

function loading(text = '正在检索…') {
  return h('div', { class: 'loading' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }), text);
}

// ---------------------------------------------------------------------------
// API

class ApiError extends Error {
  constructor(status, message, field) {
    super(message);
    this.status = status;
    this.field = field;
  }
}

/**
 * The JSON a route answers; the caller names its type from the contract (AskResult, …).
 * @param {string} path
 * @param {ApiOptions} [options]
 * @returns {Promise<any>}
 */
async function api(path, options = {}) {
  /** @type {RequestInit & { headers: Record<string, string>, json?: unknown }} */
  const init = { ...options, headers: { ...(options.headers || {}) } };
  if (options.json !== undefined) {
    init.method = init.method || 'POST';
    init.headers['content-type'] = 'application/json';
    init.body = JSON.stringify(options.json);
    delete init.json;
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch {
    throw new ApiError(0, '无法连接服务器');
  }
  const data = await response.json().catch(() => null);
  if (!response.ok) {
    const err = data && data.error;
    throw new ApiError(response.status, (err && err.message) || `请求失败（HTTP ${response.status}）`, err && err.field);
  }
  return data;
}

// ---------------------------------------------------------------------------
// Routing

function parseHash() {
  const raw = location.hash.replace(/^#/, '') || '/';
  const q = raw.indexOf('?');
  const pathPart = q >= 0 ? raw.slice(0, q) : raw;
  const params = new URLSearchParams(q >= 0 ? raw.slice(q + 1) : '');
  const segments = pathPart.split('/').filter(Boolean).map((s) => {
    try {
      return decodeURIComponent(s);
    } catch {
      return s;
    }
  });
  return { segments, params };
}


function setNav(name) {
  for (const a of /** @type {NodeListOf<HTMLElement>} */ (document.querySelectorAll('[data-nav]'))) a.classList.toggle('active', a.dataset.nav === name);
}

let renderToken = 0;
async function route() {
  const token = ++renderToken;
  const { segments, params } = parseHash();
  const [first, second, third] = segments;
  const isCurrent = () => token === renderToken;
  clear(view);
  try {
    if (!first || first === 'search') {
      setNav('search');
      await renderSearch(params, isCurrent);
    } else if (first === 'doc' && second) {
      setNav('docs');
      if (third === 'similar') await renderSimilar(new URLSearchParams({ doc: second }), isCurrent);
      else await renderDocument(second, params, isCurrent);
    } else if (first === 'similar') {
      setNav('similar');
      await renderSimilar(params, isCurrent);
    } else if (first === 'docs') {
      setNav('docs');
      await renderDocuments(params, isCurrent);
    } else if (first === 'upload') {
      setNav('upload');
      renderUpload();
    } else {
      view.append(errorBox('页面不存在'), h('p', {}, h('a', { href: '#/' }, '返回首页')));
    }
  } catch (err) {
    if (isCurrent()) view.append(errorBox(messageOf(err)));
  }
}

// ---------------------------------------------------------------------------
// Health banner

async function loadHealth() {
  try {
    health = await api('api/health');
  } catch {
    health = null;
  }
  const status = document.getElementById('footer-status');
  clear(banner);
  if (!health) {
    banner.hidden = false;
    banner.className = 'banner banner-error';
    banner.append('无法读取知识库状态：服务器未响应');
    return;
  }
  const model = health.modelStatus;
  clearTimeout(healthTimer);
  if (model && ['obtaining', 'loading', 'embedding'].includes(model.state)) {
    // npm start is obtaining the model in the background: show its progress until search turns hybrid.
    banner.hidden = false;
    banner.className = 'banner banner-warn';
    const percent = typeof model.progress === 'number' ? `（${Math.round(model.progress * 100)}%）` : '';
    banner.append(h('strong', {}, '语义检索准备中：'), `${model.message}${percent}。现在先按关键词检索，完成后自动切换为混合检索。`);
    healthTimer = setTimeout(loadHealth, 3000);
  } else if (health.mode === 'lexical-only') {
    // One short line for users; the technical reason is in /api/health and the server log.
    banner.hidden = false;
    banner.className = 'banner banner-warn';
    banner.append(h('strong', {}, '仅关键词检索：'), '语义检索模型不可用，换一种说法提问可能找不到结果。');
  } else {
    banner.hidden = true;
  }
  clear(status).append(
    `${health.documents} 个文档 · ${health.passages} 个段落 · ${health.mode === 'hybrid' ? `混合检索（${health.model ? health.model.id : ''}）` : '仅关键词检索'}`,
  );
}

// ---------------------------------------------------------------------------
// Search and answer

function filterControls(params, { withYear = true } = {}) {
  const kind = h(
    'select',
    { name: 'kind', 'aria-label': '文档类型' },
    h('option', { value: '' }, '全部类型'),
    h('option', { value: REPLY_KINDS }, '答复（提案、建议与留言）'),
    Object.entries(KIND_LABELS).map(([value, label]) => h('option', { value }, label)),
  );
  kind.value = params.get('kind') || '';
  const issuer = h('input', { name: 'issuer', type: 'text', placeholder: '发文/答复单位', 'aria-label': '发文单位', value: params.get('issuer') || '' });
  const year = h('input', {
    name: 'year',
    type: 'number',
    min: '1949',
    max: '2100',
    placeholder: '年份',
    'aria-label': '年份',
    value: params.get('year') || '',
  });
  return h('div', { class: 'filters' }, kind, issuer, withYear ? year : null);
}

function filtersFromParams(params) {
  const filters = {};
  if (params.get('kind')) filters.kind = params.get('kind').split(',');
  if (params.get('issuer')) filters.issuer = params.get('issuer');
  if (params.get('year')) {
    filters.from = params.get('year');
    filters.to = params.get('year');
  }
  return filters;
}

function formParams(form, names) {
  const data = new FormData(form);
  const params = new URLSearchParams();
  for (const name of names) {
    const value = String(data.get(name) || '').trim();
    if (value) params.set(name, value);
  }
  return params;
}

async function renderSearch(params, isCurrent) {
  const q = params.get('q') || '';
  const input = h('input', {
    type: 'search',
    name: 'q',
    value: q,
    placeholder: '输入问题或关键词，例如：高校毕业生留吉率是多少？',
    'aria-label': '问题或关键词',
    autocomplete: 'off',
    maxlength: '500',
    required: true,
  });
  const form = h(
    'form',
    { class: 'search-form', role: 'search' },
    h('div', { class: 'search-row' }, input, h('button', { type: 'submit', class: 'btn btn-primary' }, '检索')),
    filterControls(params),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const next = formParams(form, ['q', 'kind', 'issuer', 'year']);
    location.hash = `#/search?${next.toString()}`;
  });
  view.append(h('section', { class: 'hero' + (q ? ' hero-compact' : '') }, q ? null : h('h1', {}, '问政策，查答复，每句有出处'), form));

  if (!q) {
    view.append(
      h(
        'div',
        { class: 'examples' },
        h('span', { class: 'muted' }, '试试：'),
        EXAMPLES.map((example) => h('a', { class: 'chip', href: `#/search?q=${encodeURIComponent(example)}` }, example)),
      ),
    );
    input.focus();
    return;
  }

  const answerSlot = h('section', { class: 'answer-slot' }, loading('正在生成回答…'));
  const resultsSlot = h('section', { class: 'results-slot' }, loading());
  view.append(answerSlot, resultsSlot);
  const filters = filtersFromParams(params);
  const query = new URLSearchParams({ q, k: '10' });
  for (const [key, value] of Object.entries(filters)) query.set(key, Array.isArray(value) ? value.join(',') : value);

  const [ask, search] = await Promise.allSettled([
    api('api/ask', { json: { question: q, filters } }),
    api(`api/search?${query.toString()}`),
  ]);
  if (!isCurrent()) return;
  clear(answerSlot).append(ask.status === 'fulfilled' ? answerCard(ask.value) : errorBox(ask.reason.message));
  clear(resultsSlot).append(search.status === 'fulfilled' ? resultList(search.value) : errorBox(search.reason.message));
}

/** @param {AnswerCitation} citation */
function citationMarker(citation) {
  return h(
    'a',
    {
      class: 'cite',
      href: docHref(citation.documentId, { s: citation.start, e: citation.end }),
      title: `${citation.title}${citation.headingPath.length ? ` › ${citation.headingPath.join(' › ')}` : ''}${citation.pages ? ` · ${pagesLabel(citation.pages)}` : ''}`,
      dataset: { n: String(citation.n) },
    },
    `[${citation.n}]`,
  );
}

/**
 * @param {Map<number, AnswerCitation>} byN
 * @param {number} n
 */
function markerFor(byN, n) {
  const citation = byN.get(n);
  return citation ? citationMarker(citation) : null;
}

/** @param {AnswerCitation[]} citations */
function citationList(citations) {
  return h(
    'ol',
    { class: 'citations' },
    citations.map((c) =>
      h(
        'li',
        { value: String(c.n) },
        h('a', { href: docHref(c.documentId, { s: c.start, e: c.end }) }, c.title),
        c.headingPath.length ? h('span', { class: 'sep' }, ' › ') : null,
        headingTrail(c.headingPath),
        c.pages ? h('span', { class: 'page-badge' }, pagesLabel(c.pages)) : null,
        c.place || c.year ? h('span', { class: 'muted small' }, ` · ${[c.place, c.year ? `${c.year}年` : ''].filter(Boolean).join(' ')}`) : null,
        c.quote ? copyQuoteButton(c) : null,
      ),
    ),
  );
}

/** 《标题》（文号）第X页: how drafters cite a quote in a document; a 《》 inside the title becomes 〈〉, as nested title marks do. */
function sourceLine(c) {
  const title = c.title.replace(/《/g, '〈').replace(/》/g, '〉');
  const number = c.docNumber ? `（${c.docNumber}）` : '';
  return `《${title}》${number}${pagesLabel(c.pages)}`;
}

function copyQuoteButton(c) {
  const button = h('button', { type: 'button', class: 'btn-link small copy-quote', title: '复制引文及出处：《标题》（文号）第X页' }, '复制引文');
  button.addEventListener('click', async () => {
    const text = `“${c.quote}”——${sourceLine(c)}`;
    try {
      await navigator.clipboard.writeText(text);
      button.textContent = '已复制';
    } catch {
      button.textContent = '复制失败，请手动选择';
    }
  });
  return button;
}

/** A no-answer card still shows where to look: the best passages, marked as possibly relevant, never as an answer. */
/** @param {Hit[] | undefined} hits */
function possiblyRelevant(hits) {
  if (!hits || hits.length === 0) return null;
  return h(
    'div',
    { class: 'possibly-relevant' },
    h('div', { class: 'card-label' }, '可能相关的原文'),
    h(
      'ul',
      {},
      groupByDocument(hits).slice(0, 3).map(({ hits: [hit] }) =>
        h(
          'li',
          {},
          h('a', { href: docHref(hit.citation.documentId, { s: hit.citation.start, e: hit.citation.end }) }, hit.citation.title),
          h('p', { class: 'snippet small' }, hit.text.length > 120 ? `${hit.text.slice(0, 120)}…` : hit.text),
        ),
      ),
    ),
  );
}

/** @param {AskResult} result */
function answerCard(result) {
  const card = h('article', { class: 'card answer-card', 'aria-label': '回答' });
  if (!result.answer) {
    // No quote, nothing verified: the card says so instead of wearing the badge.
    card.classList.add('answer-empty');
    append(card, [
      h('div', { class: 'card-label' }, '摘录回答', h('span', { class: 'badge badge-muted', title: '没有给出回答，因此没有引文需要核对' }, '未作答')),
      h('p', { class: 'no-answer' }, '知识库里没有找到能回答这个问题的原文句子。'),
      h('p', { class: 'muted' }, result.reason || ''),
      possiblyRelevant(result.hits),
    ]);
  } else {
    const verified = result.verified === true && result.citations.length > 0;
    card.append(
      h(
        'div',
        { class: 'card-label' },
        result.answer.list ? '摘录回答（分条列出）' : '摘录回答',
        verified ? h('span', { class: 'badge badge-ok', title: '每条引文都已与原文逐字核对' }, '引文已核对') : null,
        result.answer.about ? h('span', { class: 'badge badge-scope', title: '引文所在文件涉及的地区和年份' }, result.answer.about) : null,
      ),
    );
    const byN = new Map(result.citations.map((c) => [c.n, c]));
    const body = h(result.answer.list ? 'ol' : 'div', { class: 'answer-text' + (result.answer.list ? ' answer-list' : '') });
    let item = null;
    for (const sentence of result.answer.sentences) {
      const line = h(
        'span',
        { class: 'answer-sentence' },
        h('span', { class: 'quote' }, sentence.text),
        sentence.citations.map((n) => markerFor(byN, n)),
      );
      if (result.answer.list) {
        if (!sentence.continuation || !item) body.append((item = h('li', {}, line)));
        else item.append(line);
      } else body.append(h('p', {}, line));
    }
    card.append(body, citationList(result.citations));
  }
  if (result.generated) card.append(generatedBlock(result.generated));
  card.append(feedbackBar(result));
  return card;
}

const SVG_NS = 'http://www.w3.org/2000/svg';

/** A thumb drawn as SVG: emoji need a colour-emoji font, which many office machines (and headless Chromium on Debian) lack. */
function thumbIcon(direction = 'up') {
  const svg = document.createElementNS(SVG_NS, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('class', `thumb thumb-${direction}`);
  const path = document.createElementNS(SVG_NS, 'path');
  path.setAttribute('d', 'M2 10h4v11H2zM8 21V10l5-8c1.7 0 2.6 1.2 2.2 2.9L14.3 9H20a2 2 0 0 1 2 2.3l-1.4 8A2 2 0 0 1 18.6 21z');
  svg.append(path);
  return svg;
}

/** 👍/👎 on the answer (or on the absence of one), with an optional correction: stored for the evaluation set. */
/** @param {AskResult} result */
function feedbackBar(result) {
  const status = h('span', { class: 'feedback-status small muted', 'aria-live': 'polite' });
  const correction = h('textarea', {
    name: 'correction',
    rows: '2',
    maxlength: '2000',
    placeholder: '可选：正确的回答是什么，或它在哪份文件里',
    'aria-label': '更正',
  });
  const submit = h('button', { type: 'submit', class: 'btn btn-small' }, '提交');
  const form = h('form', { class: 'feedback-form', hidden: true }, correction, submit);
  const up = h('button', { type: 'button', class: 'btn-feedback feedback-up', title: '回答正确' }, thumbIcon(), '对');
  const down = h('button', { type: 'button', class: 'btn-feedback feedback-down', title: '回答有误或本应作答，可附更正' }, thumbIcon('down'), '不对');
  const bar = h('div', { class: 'feedback' }, h('span', { class: 'small muted' }, result.answer ? '这个回答对吗？' : '不作答对吗？'), up, down, status, form);
  const send = async (verdict) => {
    up.disabled = down.disabled = submit.disabled = true;
    const text = correction.value.trim();
    try {
      await api('api/feedback', {
        json: {
          question: result.question,
          answer: result.answer ? result.answer.text : null,
          citations: result.citations.map((c) => ({ documentId: c.documentId, title: c.title, start: c.start, end: c.end, quote: c.quote, ...(c.pages ? { pages: c.pages } : {}) })),
          verdict,
          ...(text ? { correction: text } : {}),
          mode: result.mode,
        },
      });
      (verdict === 'up' ? up : down).classList.add('chosen');
      form.hidden = true;
      clear(status).append('谢谢，已记录。');
    } catch (err) {
      up.disabled = down.disabled = submit.disabled = false;
      clear(status).append(`没有记录：${messageOf(err)}`);
    }
  };
  up.addEventListener('click', () => send('up'));
  down.addEventListener('click', () => {
    down.classList.add('chosen');
    form.hidden = false;
    correction.focus();
  });
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    send('down');
  });
  return bar;
}

/** @param {NonNullable<AskResult['generated']>} generated */
function generatedBlock(generated) {
  const box = h('div', { class: 'generated' }, h('div', { class: 'card-label' }, `大模型回答（${generated.model}）`));
  if ('error' in generated) {
    box.append(h('p', { class: 'muted' }, generated.error));
    return box;
  }
  const byN = new Map(generated.citations.map((c) => [c.n, c]));
  const p = h('p', {});
  for (const s of generated.sentences) {
    const span = h('span', { class: s.uncited ? 'uncited' : '', title: s.uncited ? '这句话没有引用任何检索到的段落' : undefined }, s.text);
    append(p, [span, s.citations.map((n) => markerFor(byN, n))]);
  }
  box.append(p);
  if (generated.uncitedSentences > 0) box.append(h('p', { class: 'warn small' }, `有 ${generated.uncitedSentences} 句没有引文支持（已用波浪线标出），请核对。`));
  if (generated.invalidCitations.length > 0)
    box.append(h('p', { class: 'warn small' }, `模型引用了不存在的资料编号：${generated.invalidCitations.map((n) => `[${n}]`).join(' ')}`));
  box.append(citationList(generated.citations));
  return box;
}

/** Why a passage is listed, in words; the retrievers' ranks go in the tooltip. */
function matchBadge(ranks) {
  const both = ranks.lexical && ranks.dense;
  const label = both ? '关键词与语义都匹配' : ranks.lexical ? '关键词匹配' : ranks.dense ? '语义相近' : '';
  if (!label) return null;
  const detail = [ranks.lexical ? `关键词检索第 ${ranks.lexical} 名` : '', ranks.dense ? `语义检索第 ${ranks.dense} 名` : ''].filter(Boolean).join('，');
  return h('span', { class: 'rank', title: detail }, label);
}

/** One card per document, its best passages inside, in the order of its best passage. */
/** @param {Hit[]} hits */
function groupByDocument(hits) {
  /** @type {Map<string, { id: string, first: number, hits: Hit[] }>} */
  const groups = new Map();
  hits.forEach((hit, index) => {
    const id = hit.citation.documentId;
    let group = groups.get(id);
    if (!group) groups.set(id, (group = { id, first: index, hits: [] }));
    group.hits.push(hit);
  });
  return [...groups.values()];
}

function documentCard(group, index) {
  const best = group.hits[0];
  const c = best.citation;
  return h(
    'li',
    { class: 'card hit doc-group' },
    h('div', { class: 'hit-head' }, h('span', { class: 'hit-no' }, String(index + 1)), h('a', { class: 'hit-title', href: docHref(c.documentId, {}) }, c.title)),
    metaLine([h('span', { class: `kind kind-${best.kind}` }, kindLabel(best.kind)), best.issuer, best.date, group.hits.length > 1 ? `${group.hits.length} 段相关` : null]),
    groupPassages(group.hits),
  );
}

/** A document's best passages shown, the rest folded away: a long plan would otherwise fill the page. */
const SHOWN_PASSAGES = 3;

function groupPassages(hits) {
  const cards = hits.map(passageBlock);
  if (cards.length <= SHOWN_PASSAGES) return cards;
  return [
    ...cards.slice(0, SHOWN_PASSAGES),
    h('details', { class: 'more-passages' }, h('summary', { class: 'small' }, `本文件还有 ${cards.length - SHOWN_PASSAGES} 段相关`), cards.slice(SHOWN_PASSAGES)),
  ];
}

/** @param {Hit} hit */
function passageBlock(hit) {
  const link = docHref(hit.citation.documentId, { s: hit.citation.start, e: hit.citation.end });
  return h(
    'div',
    { class: 'passage' },
    hit.citation.headingPath.length ? h('div', { class: 'hit-path' }, headingTrail(hit.citation.headingPath)) : null,
    hit.lowConfidence ? h('div', { class: 'low-confidence-note small', role: 'note' }, 'OCR 识别置信度低，引用前请核对原件') : null,
    h('p', { class: `snippet${hit.lowConfidence ? ' low-confidence' : ''}` }, highlighted(hit.text, hit.highlights)),
    h(
      'div',
      { class: 'hit-foot' },
      matchBadge(hit.ranks || {}),
      hit.citation.pages ? h('span', { class: 'page-badge' }, pagesLabel(hit.citation.pages)) : null,
      h('a', { class: 'small', href: link }, '查看原文 →'),
    ),
  );
}

/** @param {SearchResult} result */
function resultList(result) {
  const wrap = h('div', {});
  wrap.append(
    h(
      'div',
      { class: 'results-head' },
      h('h2', {}, `相关文件（${groupByDocument(result.hits).length}），段落 ${result.hits.length}`),
      h('span', { class: 'muted small' }, `${result.mode === 'hybrid' ? '混合检索' : result.mode === 'dense' ? '语义检索' : '关键词检索'} · ${Math.round(result.tookMs)} 毫秒`),
    ),
  );
  if (result.notice) wrap.append(h('p', { class: 'muted small' }, result.notice));
  if (result.hits.length === 0) wrap.append(h('p', { class: 'empty' }, '没有找到相关段落。试试换个说法，或放宽筛选条件。'));
  else wrap.append(h('ol', { class: 'hits' }, groupByDocument(result.hits).map(documentCard)));
  return wrap;
}

// ---------------------------------------------------------------------------
// Document viewer

const META_FIELDS = [
  ['docNumber', '文号'],
  ['session', '会议'],
  ['proposalNumber', '提案/建议号'],
  ['proposer', '提出人'],
  ['proposalTitle', '原题'],
  ['issuer', '单位'],
  ['date', '日期'],
];

/** Wrap [start, end) of the paragraph (document offsets) in a <mark>. */
function paragraphWithQuote(paragraph, start, end) {
  if (start === undefined || end === undefined || end <= paragraph.start || start >= paragraph.end) return paragraph.text;
  const from = Math.max(0, start - paragraph.start);
  const to = Math.min(paragraph.text.length, end - paragraph.start);
  return highlighted(paragraph.text, [[from, to]], 'quote-mark');
}

/**
 * Cells of a table paragraph with their offsets: the row text joins cells
 * with TABLE_CELL_SEPARATOR and leads each by its column heading and
 * TABLE_HEADING_MARK (kb/types.ts), which the drawn table shows once, in its
 * heading row.
 */
function tableCells(paragraph, headings) {
  const cells = [];
  let offset = paragraph.start;
  for (const part of paragraph.text.split(' | ')) {
    const heading = headings.find((name) => part.startsWith(`${name}：`));
    const shown = heading ? heading.length + 1 : 0;
    cells.push({ text: part.slice(shown), start: offset + shown, end: offset + part.length, heading });
    offset += part.length + 3;
  }
  return cells;
}

/** One table paragraph as a <tr>: a heading row names the columns, a data row puts each cell under its heading. */
function tableRow(paragraph, attributes, table, quote) {
  const header = paragraph.role === 'table-header';
  const cells = tableCells(paragraph, header ? [] : table.headings);
  if (header) table.headings = cells.map((cell) => cell.text);
  const row = h('tr', attributes);
  const columns = table.headings.length;
  let column = 0;
  for (const cell of cells) {
    // A row that leaves cells empty names the ones it fills: each goes under its own heading.
    const at = cell.heading ? table.headings.indexOf(cell.heading) : column;
    while (!header && column < at) {
      row.append(h('td', {}));
      column++;
    }
    const content = quote ? paragraphWithQuote(cell, quote[0], quote[1]) : cell.text;
    row.append(h(header ? 'th' : 'td', {}, content));
    column++;
  }
  while (!header && column < columns) {
    row.append(h('td', {}));
    column++;
  }
  return row;
}

/**
 * The document query that loads the page of paragraphs holding the citation: by paragraph index (p),
 * by text offset (s); else the page holding paragraph `around` (no highlight) or starting at `from`.
 * The server sends at most one page.
 */
function documentPageQuery(params) {
  const index = (name) => (params.has(name) && /^\d+$/.test(params.get(name)) ? Number(params.get(name)) : undefined);
  const p = index('p');
  const s = index('s');
  const around = index('around');
  const from = index('from');
  if (p !== undefined) return `?paragraph=${p}`;
  if (s !== undefined) return `?at=${s}`;
  if (around !== undefined) return `?paragraph=${around}`;
  if (from !== undefined) return `?paragraphOffset=${from}`;
  return '';
}

/** Links to the neighbouring pages of a document longer than one page of paragraphs. */
function documentPager(doc) {
  const first = doc.paragraphOffset;
  const next = first + doc.paragraphs.length;
  if (first === 0 && next >= doc.paragraphTotal) return null;
  return h(
    'div',
    { class: 'pager doc-pager' },
    first > 0 ? h('a', { class: 'btn', href: docHref(doc.id, { around: first - 1 }) }, '上一页') : null,
    h('span', { class: 'muted small' }, `第 ${first + 1}–${next} 段，共 ${doc.paragraphTotal} 段`),
    next < doc.paragraphTotal ? h('a', { class: 'btn', href: docHref(doc.id, { from: next }) }, '下一页') : null,
  );
}

async function renderDocument(id, params, isCurrent) {
  view.append(loading('正在打开文档…'));
  const s = params.has('s') ? Number(params.get('s')) : undefined;
  const e = params.has('e') ? Number(params.get('e')) : undefined;
  const p = params.has('p') ? Number(params.get('p')) : undefined;
  /** @type {DocumentResult} */
  const doc = await api(`api/documents/${encodeURIComponent(id)}${documentPageQuery(params)}`);
  if (!isCurrent()) return;
  clear(view);
  let target = null;
  if (Number.isInteger(p)) target = doc.paragraphs.find((x) => x.index === p) || null;
  else if (s !== undefined && Number.isInteger(s)) target = doc.paragraphs.find((x) => s >= x.start && s < x.end) || doc.paragraphs.find((x) => x.start >= s) || null;

  const meta = doc.metadata || {};
  const head = h(
    'header',
    { class: 'doc-head' },
    h('div', { class: 'crumbs' }, h('a', { href: '#/docs' }, '文档库'), ' › ', h('span', { class: 'doc-id' }, doc.id)),
    h('h1', { class: 'doc-title' }, doc.title),
    metaLine([h('span', { class: `kind kind-${doc.kind}` }, kindLabel(doc.kind)), doc.format.toUpperCase(), doc.pageCount ? `共${doc.pageCount}页` : null]),
    h(
      'dl',
      { class: 'doc-meta' },
      META_FIELDS.filter(([key]) => meta[key] !== undefined && meta[key] !== '').map(([key, label]) => [h('dt', {}, label), h('dd', {}, String(meta[key]))]),
    ),
    h(
      'div',
      { class: 'doc-actions' },
      doc.hasFile ? h('a', { class: 'btn', href: fileHref(doc.id), target: '_blank', rel: 'noopener' }, '打开原始文件') : h('span', { class: 'muted small' }, '原始文件不可用'),
      h('a', { class: 'btn', href: `#/similar?doc=${encodeURIComponent(doc.id)}` }, '查找相似文档'),
    ),
  );
  if (doc.needsOcr || (doc.warnings && doc.warnings.length)) {
    head.append(h('div', { class: 'alert alert-warn' }, doc.needsOcr ? '部分页面没有文本层，内容不完整（需要 OCR）。' : null, (doc.warnings || []).join('；')));
  }
  if (doc.ocr) {
    head.append(h('p', { class: 'muted small' }, `${doc.ocr.pages} 页由 OCR 识别，平均置信度 ${doc.ocr.confidence.toFixed(2)}；置信度低的段落以虚线标出，引用前请核对原件。`));
  }

  const locator = target
    ? h(
        'div',
        { class: 'locator', role: 'note' },
        h('strong', {}, '引文位置：'),
        target.headingPath.length ? headingTrail(target.headingPath) : '正文',
        target.pages ? h('span', { class: 'page-badge' }, pagesLabel(target.pages)) : null,
        h('span', { class: 'muted small' }, `第 ${target.index + 1} 段`),
      )
    : null;

  const body = h('article', { class: 'doc-body' });
  let lastPage = null;
  /** The table being drawn: rows of consecutive table paragraphs go into one <table>. */
  let table = null;
  /** A record's citizen message (role message) follows its reply: it gets a heading of its own, once. */
  let previousRole = null;
  for (const paragraph of doc.paragraphs) {
    if (paragraph.pages && paragraph.pages[0] !== lastPage) {
      if (lastPage !== null) {
        body.append(h('div', { class: 'page-break' }, h('span', {}, `第${paragraph.pages[0]}页`)));
        table = null;
      }
      lastPage = paragraph.pages[paragraph.pages.length - 1];
    }
    const isTarget = target && paragraph.index === target.index;
    const attributes = {
      class: `para role-${paragraph.role}${isTarget ? ' target' : ''}${paragraph.role === 'heading' && paragraph.headingLevel ? ` level-${paragraph.headingLevel}` : ''}${paragraph.lowConfidence ? ' low-confidence' : ''}`,
      id: `para-${paragraph.index}`,
      dataset: { index: String(paragraph.index), start: String(paragraph.start), end: String(paragraph.end) },
      title: [paragraph.pages ? pagesLabel(paragraph.pages) : '', paragraph.confidence !== undefined ? `OCR 置信度 ${paragraph.confidence.toFixed(2)}` : '']
        .filter(Boolean).join('，') || undefined,
    };
    if (paragraph.role === 'table-header' || paragraph.role === 'table-row') {
      if (!table || paragraph.role === 'table-header') {
        table = { element: h('table', { class: 'doc-table' }), headings: [] };
        body.append(table.element);
      }
      table.element.append(tableRow(paragraph, attributes, table, isTarget ? [s, e] : null));
      continue;
    }
    table = null;
    if (paragraph.role === 'message' && previousRole !== 'message') {
      body.append(h('h3', { class: 'message-heading' }, '来信（群众留言原文，不是答复内容）'));
    }
    previousRole = paragraph.role;
    const tag = paragraph.role === 'heading' ? 'h3' : 'p';
    body.append(h(tag, attributes, isTarget ? paragraphWithQuote(paragraph, s, e) : paragraph.text));
  }
  const pager = documentPager(doc);
  // The helper skips absent parts; the DOM's own append would write them as the text "null".
  append(view, [head, locator, pager, body, pager ? pager.cloneNode(true) : null]);
  if (target) {
    const el = document.getElementById(`para-${target.index}`);
    if (el) requestAnimationFrame(() => el.scrollIntoView({ block: 'center' }));
  } else {
    window.scrollTo(0, 0);
  }
}

// ---------------------------------------------------------------------------
// Precedent finder

async function renderSimilar(params, isCurrent) {
  const docId = params.get('doc');
  const textarea = h('textarea', {
    name: 'text',
    rows: '9',
    maxlength: '20000',
    placeholder: '粘贴新提案或建议的全文（或其中几段），查找以往答复过类似问题的文件……',
    'aria-label': '提案全文',
  });
  textarea.value = sessionStorage.getItem('similar-text') || '';
  const repliesOnly = h('input', { type: 'checkbox', name: 'replies', checked: params.get('replies') !== '0' });
  const proposalFile = h('input', { type: 'file', name: 'proposal', accept: '.docx,.pdf,.txt', 'aria-label': '上传提案文件' });
  const form = h(
    'form',
    { class: 'similar-form' },
    h('h1', {}, '查找先例答复'),
    h('p', { class: 'muted' }, '按编号（一、（一）1.，无编号时按段）把提案分成各条建议，逐条找出既往答复中最接近的段落，并按覆盖的建议条数排列答复。'),
    textarea,
    h('label', { class: 'small muted file-pick' }, '或上传提案（DOCX、PDF）：', proposalFile),
    h(
      'div',
      { class: 'form-row' },
      h('label', { class: 'check' }, repliesOnly, ' 只看答复（提案、建议与留言答复）'),
      h('button', { type: 'submit', class: 'btn btn-primary' }, '查找先例答复'),
    ),
  );
  const results = h('section', { class: 'similar-results' });
  view.append(form, results);

  const run = async (request, render) => {
    clear(results).append(loading('正在逐条比对…'));
    try {
      const data = await request();
      if (!isCurrent()) return;
      clear(results).append(render(data));
    } catch (err) {
      if (isCurrent()) clear(results).append(errorBox(messageOf(err)));
    }
  };

  proposalFile.addEventListener('change', async () => {
    const file = proposalFile.files && proposalFile.files[0];
    if (!file) return;
    const body = new FormData();
    body.append('file', file);
    try {
      /** @type {ProposalText} */
      const data = await api('api/proposals/text', { method: 'POST', body });
      textarea.value = data.text;
    } catch (err) {
      clear(results).append(errorBox(messageOf(err)));
    }
  });

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const text = textarea.value.trim();
    if (!text) {
      clear(results).append(errorBox('请先粘贴提案文本'));
      return;
    }
    sessionStorage.setItem('similar-text', text);
    const request = { text, k: 10, repliesOnly: repliesOnly.checked };
    run(() => api('api/precedents', { json: request }), (data) => precedentResults(data, request));
  });

  if (docId) {
    /** @type {HTMLElement} */ (form.querySelector('h1')).textContent = '相似文档';
    const note = h('p', { class: 'alert alert-info' }, '以文档 ', h('a', { href: docHref(docId) }, docId), ' 的正文为提案（答复按其各节）逐条查找先例，文档本身不计。');
    form.insertBefore(note, textarea);
    // Only the replies-only choice applies to a stored document; changing it searches again.
    for (const selector of ['.file-pick', '.form-row button[type="submit"]', 'p.muted']) {
      const el = /** @type {HTMLElement | null} */ (form.querySelector(selector));
      if (el) el.hidden = true;
    }
    textarea.hidden = true;
    repliesOnly.addEventListener('change', () => {
      location.hash = `#/similar?${new URLSearchParams({ doc: docId, replies: repliesOnly.checked ? '1' : '0' }).toString()}`;
    });
    // The document as a proposal (a reply: its numbered sections), precedents found section by section; the document itself is left out.
    const query = new URLSearchParams({ k: '10', repliesOnly: repliesOnly.checked ? '1' : '0' });
    await run(() => api(`api/documents/${encodeURIComponent(docId)}/precedents?${query.toString()}`), (data) => precedentResults(data, null));
  }
}

function coverageBadge(coverage) {
  const pct = Math.round(coverage * 100);
  return h(
    'span',
    { class: 'score', title: '覆盖率：先例段落包含本条建议内容词（二字词组，不计“加强、进一步”等通用词）的比例；同一数值在任何查询中含义相同' },
    h('span', { class: 'score-bar' }, h('span', { class: 'score-fill', style: { width: `${pct}%` } })),
    `覆盖 ${pct}%`,
  );
}

/** The calibrated probability that a precedent answers the same problem (search/similarity.ts); absent without a model. */
function similarityBadge(similarity) {
  if (similarity === undefined || similarity === null) return null;
  const pct = Math.round(similarity * 100);
  return h(
    'span',
    { class: `score similarity${similarity >= 0.5 ? ' similarity-high' : ''}`, title: '相似度：嵌入模型的余弦相似度，经在先例集上拟合的逻辑曲线换算为“回答的是同一问题”的概率；同一数值在任何查询中含义相同，50% 即一半把握' },
    h('span', { class: 'score-bar' }, h('span', { class: 'score-fill', style: { width: `${pct}%` } })),
    `相似度 ${pct}%`,
  );
}

function sourceLink(excerpt) {
  const where = excerpt.citation.pages ? pagesLabel(excerpt.citation.pages) : excerpt.citation.headingPath.join(' › ') || '正文';
  return h('a', { class: 'small', href: docHref(excerpt.documentId, { s: excerpt.citation.start, e: excerpt.citation.end }) }, `《${excerpt.title}》 ${where} →`);
}

function suggestionLabel(suggestion) {
  return suggestion.label ? suggestion.text : `第${suggestion.index + 1}段：${suggestion.text}`;
}

/** One earlier document in a precedent list: rank, title, score, meta line, other renditions, and its alignment. */
function precedentCard(i, doc, score, meta, details) {
  return h(
    'li',
    { class: 'card precedent' },
    h('div', { class: 'hit-head' }, h('span', { class: 'hit-no' }, String(i + 1)), h('a', { class: 'hit-title', href: docHref(doc.documentId) }, doc.title), score),
    metaLine(meta),
    doc.alsoIn && doc.alsoIn.length
      ? h('div', { class: 'also-in small muted' }, '同一文件的其他版本：', doc.alsoIn.map((id, k) => [k ? '、' : '', h('a', { href: docHref(id) }, id)]))
      : null,
    details,
  );
}

/** POST `request` and save the file (Word or Excel) the server answers with. */
async function downloadFile(path, request, button) {
  const label = button.textContent;
  button.disabled = true;
  button.textContent = '正在生成…';
  try {
    const response = await fetch(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(request) });
    if (!response.ok) {
      const data = await response.json().catch(() => null);
      throw new Error((data && data.error && data.error.message) || `请求失败（HTTP ${response.status}）`);
    }
    const disposition = response.headers.get('content-disposition') || '';
    const named = /filename\*=UTF-8''([^;]+)/.exec(disposition);
    const link = h('a', { download: named ? decodeURIComponent(named[1]) : 'PolicyKB.docx' });
    // Set directly: h() links only our own routes, and this blob is the server's own answer.
    link.href = URL.createObjectURL(await response.blob());
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
  } catch (err) {
    button.after(errorBox(messageOf(err)));
  } finally {
    button.disabled = false;
    button.textContent = label;
  }
}

/**
 * The first draft and the comparison table, as files, for a pasted proposal.
 * @param {{ text: string, k: number, repliesOnly: boolean }} request
 */
function draftActions(request) {
  const draftButton = h('button', { type: 'button', class: 'btn btn-primary draft-button', title: '公文版式的 Word 初稿：每条建议一节，填入先例段落并以脚注注明出处' }, '生成答复初稿');
  // Offered only when the server has a model; the draft is otherwise purely extractive.
  const rewrite = health && health.llm && health.llm.configured ? h('input', { type: 'checkbox', name: 'rewrite' }) : null;
  draftButton.addEventListener('click', () => downloadFile('api/draft', { ...request, rewrite: Boolean(rewrite && rewrite.checked) }, draftButton));
  const exportButton = h('button', { type: 'button', class: 'btn export-button', title: '建议 | 先例段落 | 出处 | 覆盖率，Word 表格' }, '对照表（Word）');
  exportButton.addEventListener('click', () => downloadFile('api/precedents/export', request, exportButton));
  const exportXlsxButton = h('button', { type: 'button', class: 'btn export-xlsx-button', title: '建议 | 先例段落 | 出处 | 覆盖率，Excel 表：每个先例一行，可排序筛选' }, '对照表（Excel）');
  exportXlsxButton.addEventListener('click', () => downloadFile('api/precedents/export', { ...request, format: 'xlsx' }, exportXlsxButton));
  return h('div', { class: 'form-row draft-actions' }, draftButton, rewrite ? h('label', { class: 'check small' }, rewrite, ' 大模型据先例改写（保留出处，无出处的句子标黄）') : null, exportButton, exportXlsxButton);
}

/**
 * @param {PrecedentsResult} data
 * @param {{ text: string, k: number, repliesOnly: boolean } | null} request what the draft and export routes get; null for a stored document's precedents, which offer neither
 */
function precedentResults(data, request) {
  const wrap = h('div', {});
  const n = data.outline.suggestions.length;
  if (request) wrap.append(draftActions(request));
  wrap.append(
    h(
      'div',
      { class: 'results-head' },
      h('h2', {}, `逐条先例（${n} 条${request ? '建议' : ''}）`),
      h('span', { class: 'muted small' }, `${data.outline.numbered ? '按编号分条' : '无编号，按段分条'} · ${data.lexicalOnly ? '关键词检索' : '混合检索'} · ${Math.round(data.tookMs)} 毫秒`),
    ),
  );
  const perSuggestion = h('ol', { class: 'suggestions' });
  for (const entry of data.bySuggestion) {
    perSuggestion.append(
      h(
        'li',
        { class: 'card suggestion' },
        h('p', { class: 'suggestion-text' }, suggestionLabel(entry.suggestion)),
        entry.precedents.length === 0
          ? h('p', { class: 'empty small' }, '没有找到先例段落。')
          : h(
              'ol',
              { class: 'suggestion-precedents' },
              entry.precedents.map((excerpt) =>
                h('li', { class: 'excerpt' }, h('div', { class: 'excerpt-head' }, h('span', { class: `kind kind-${excerpt.kind}` }, kindLabel(excerpt.kind)), similarityBadge(excerpt.similarity), ' ', coverageBadge(excerpt.coverage)), h('p', {}, excerpt.text), sourceLink(excerpt)),
              ),
            ),
      ),
    );
  }
  wrap.append(perSuggestion);

  wrap.append(h('div', { class: 'results-head' }, h('h2', {}, `相似文档（${data.replies.length}）`), h('span', { class: 'muted small' }, `按覆盖的建议条数（覆盖率 ≥ ${Math.round(data.coveredAt * 100)}% 计为覆盖）与平均覆盖率排序`)));
  if (data.replies.length === 0) {
    wrap.append(h('p', { class: 'empty' }, '没有找到相似的文档。'));
    return wrap;
  }
  const list = h('ol', { class: 'precedents' });
  data.replies.forEach((reply, i) => {
    const pairs = h(
      'div',
      { class: 'pairs' },
      h('div', { class: 'pair pair-head' }, h('div', {}, '建议'), h('div', {}, '先例段落')),
      reply.excerpts.map((excerpt, k) =>
        excerpt
          ? h(
              'div',
              { class: 'pair' },
              h('div', { class: 'pair-query' }, suggestionLabel(data.outline.suggestions[k])),
              h('div', { class: 'pair-match' }, h('p', {}, excerpt.text), similarityBadge(excerpt.similarity), ' ', coverageBadge(excerpt.coverage), ' ', sourceLink(excerpt)),
            )
          : null,
      ),
    );
    list.append(
      precedentCard(i, reply, h('span', { class: 'badges' }, similarityBadge(reply.similarity), ' ', coverageBadge(reply.score)), [h('span', { class: `kind kind-${reply.kind}` }, kindLabel(reply.kind)), reply.issuer, reply.date, `覆盖 ${reply.covered}/${n} 条建议`],
        h('details', { class: 'pair-details', open: i < 2 }, h('summary', {}, `逐条对照（${reply.excerpts.filter(Boolean).length} 条）`), pairs)),
    );
  });
  wrap.append(list);
  return wrap;
}

// ---------------------------------------------------------------------------
// Document list

/** A document's state in the list: indexed, OCR'd (pages, confidence), or waiting for OCR. */
function documentState(d) {
  if (d.needsOcr) return h('span', { class: 'status status-needs-ocr', title: (d.warnings || []).join('；') }, '需要 OCR');
  if (d.ocr) return h('span', { class: 'status status-ocr' }, `OCR（${d.ocr.pages} 页，置信度 ${d.ocr.confidence.toFixed(2)}）`);
  return h('span', { class: 'status status-added' }, '已索引');
}

async function renderDocuments(params, isCurrent) {
  const offset = Math.max(0, Number(params.get('offset')) || 0);
  const limit = 20;
  const form = h('form', { class: 'docs-form' }, h('h1', {}, '文档库'), h('div', { class: 'form-row' }, filterControls(params), h('button', { type: 'submit', class: 'btn' }, '筛选')));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    location.hash = `#/docs?${formParams(form, ['kind', 'issuer', 'year']).toString()}`;
  });
  const slot = h('section', {}, loading('正在加载…'));
  view.append(form, slot);
  const query = new URLSearchParams({ offset: String(offset), limit: String(limit) });
  for (const [key, value] of Object.entries(filtersFromParams(params))) query.set(key, Array.isArray(value) ? value.join(',') : value);
  /** @type {DocumentPage} */
  const page = await api(`api/documents?${query.toString()}`);
  if (!isCurrent()) return;
  clear(slot);
  slot.append(h('p', { class: 'muted small' }, `共 ${page.total} 个文档`));
  slot.append(
    h(
      'table',
      { class: 'doc-table' },
      h('thead', {}, h('tr', {}, h('th', {}, '标题'), h('th', {}, '类型'), h('th', {}, '单位'), h('th', {}, '日期'), h('th', {}, '段落'), h('th', {}, '状态'))),
      h(
        'tbody',
        {},
        page.documents.map((d) =>
          h(
            'tr',
            {},
            h('td', {}, h('a', { href: docHref(d.id) }, d.title), h('div', { class: 'doc-id small' }, d.id)),
            h('td', {}, kindLabel(d.kind)),
            h('td', {}, d.metadata.issuer || ''),
            h('td', {}, d.metadata.date || ''),
            h('td', {}, String(d.paragraphCount)),
            h('td', {}, documentState(d)),
          ),
        ),
        (page.failures || []).map((f) =>
          h(
            'tr',
            { class: 'status-failed' },
            h('td', {}, h('div', { class: 'doc-id small' }, f.id)),
            h('td', { colspan: '4' }, f.error),
            h('td', {}, h('span', { class: 'status status-failed' }, '失败')),
          ),
        ),
      ),
    ),
  );
  const pager = h('div', { class: 'pager' });
  const link = (o) => {
    const next = new URLSearchParams(params);
    next.set('offset', String(o));
    return `#/docs?${next.toString()}`;
  };
  if (offset > 0) pager.append(h('a', { class: 'btn', href: link(Math.max(0, offset - limit)) }, '上一页'));
  if (offset + limit < page.total) pager.append(h('a', { class: 'btn', href: link(offset + limit) }, '下一页'));
  slot.append(pager);
}

// ---------------------------------------------------------------------------
// Upload

const STATUS_LABELS = { added: '已新增', updated: '已更新', unchanged: '未变化', failed: '失败', rejected: '不支持' };

function renderUpload() {
  const token = h('input', { type: 'password', name: 'token', autocomplete: 'off', placeholder: 'KB_ADMIN_TOKEN', 'aria-label': '管理员令牌', required: true });
  token.value = sessionStorage.getItem('admin-token') || '';
  const types = health?.uploads?.types || ['.pdf', '.docx', '.html', '.htm', '.txt', '.md'];
  const files = h('input', { type: 'file', name: 'files', multiple: true, accept: types.join(','), 'aria-label': '选择文件', required: true });
  const drop = h('div', { class: 'drop-zone', role: 'group', 'aria-label': '拖放文件' }, '把文件拖到这里，或点击上方选择文件');
  drop.addEventListener('dragover', (event) => {
    event.preventDefault();
    drop.classList.add('drag-over');
  });
  drop.addEventListener('dragleave', () => drop.classList.remove('drag-over'));
  drop.addEventListener('drop', (event) => {
    event.preventDefault();
    drop.classList.remove('drag-over');
    if (event.dataTransfer && event.dataTransfer.files.length > 0) {
      files.files = event.dataTransfer.files;
      clear(drop).append(`已选择 ${event.dataTransfer.files.length} 个文件：${[...event.dataTransfer.files].map((f) => f.name).join('、')}`);
    }
  });
  const progress = h('progress', { max: '100', value: '0', hidden: true });
  const status = h('p', { class: 'muted small', 'aria-live': 'polite' });
  const results = h('section', { class: 'upload-results' });
  const enabled = !health || health.uploads?.enabled !== false;
  const limitText = health?.uploads ? `单个文件不超过 ${Math.round(health.uploads.maxBytes / 1024 / 1024)} MB；` : '';
  const form = h(
    'form',
    { class: 'upload-form card' },
    h('h1', {}, '上传文件入库'),
    h('p', { class: 'muted' }, `支持 ${types.join(' ')}（扫描件和图片经 OCR 识别）。${limitText}同名文件会替换原有版本。`),
    enabled ? null : h('div', { class: 'alert alert-warn' }, '服务器未设置 KB_ADMIN_TOKEN，上传已停用。'),
    h('label', { class: 'field' }, h('span', {}, '管理员令牌'), token),
    h('label', { class: 'field' }, h('span', {}, '文件'), files),
    drop,
    h('div', { class: 'form-row' }, h('button', { type: 'submit', class: 'btn btn-primary', disabled: !enabled }, '上传并入库'), progress),
    status,
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    if (!files.files || files.files.length === 0) return;
    sessionStorage.setItem('admin-token', token.value);
    const data = new FormData();
    for (const file of files.files) data.append('files', file, file.name);
    const xhr = new XMLHttpRequest();
    xhr.open('POST', 'api/documents');
    xhr.setRequestHeader('Authorization', `Bearer ${token.value}`);
    progress.hidden = false;
    progress.value = 0;
    clear(status).append('正在上传…');
    clear(results);
    xhr.upload.addEventListener('progress', (e) => {
      if (e.lengthComputable) {
        progress.value = Math.round((e.loaded / e.total) * 100);
        clear(status).append(e.loaded < e.total ? `正在上传 ${progress.value}%` : '上传完成，正在解析与索引…');
      }
    });
    xhr.addEventListener('load', () => {
      progress.value = 100;
      let body;
      try {
        body = JSON.parse(xhr.responseText);
      } catch {
        body = null;
      }
      clear(status);
      if (body && body.error) results.append(errorBox(body.error.message));
      if (body && Array.isArray(body.results)) results.append(uploadTable(body.results));
      if (!body) results.append(errorBox(`上传失败（HTTP ${xhr.status}）`));
      else if (xhr.status === 200) status.append('完成。');
      loadHealth();
    });
    xhr.addEventListener('error', () => {
      clear(status);
      results.append(errorBox('上传失败：无法连接服务器'));
    });
    xhr.send(data);
  });
  view.append(form, results);
}

function uploadTable(results) {
  return h(
    'table',
    { class: 'doc-table upload-table' },
    h('thead', {}, h('tr', {}, h('th', {}, '文件'), h('th', {}, '结果'), h('th', {}, '说明'))),
    h(
      'tbody',
      {},
      results.map((r) =>
        h(
          'tr',
          { class: `status-${r.status}` },
          h('td', {}, r.file),
          h('td', {}, h('span', { class: `status status-${r.status}` }, STATUS_LABELS[r.status] || r.status)),
          h(
            'td',
            {},
            r.error ? r.error : null,
            r.document ? h('a', { href: docHref(r.document.id) }, `${r.document.title}（${r.document.paragraphCount} 段）`) : null,
          ),
        ),
      ),
    ),
  );
}

// ---------------------------------------------------------------------------

window.addEventListener('hashchange', route);
loadHealth().finally(route);
