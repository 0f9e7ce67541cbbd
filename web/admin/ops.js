// The operator's figures, beside admin.js: delivery rates and the webhook
// queue (read from /metrics, as Prometheus reads them), the cluster's
// nodes and slots (/cluster/nodes, /cluster/slots), and a channel's
// subscribers a page at a time (/channel/subscribers). Read-only: it only
// reads, with the manager token admin.js holds.
(() => {
  const A = window.jindouAdmin;
  const $ = (id) => document.getElementById(id);
  const POLL_MS = 1000;
  const CLUSTER_EVERY = 3; // polls between two reads of the nodes and slots
  const SUBS_PAGE = 100;
  let last = null; // the previous /metrics and when it came
  let polls = 0;
  const recvSpark = [];

  // parseMetrics reads Prometheus's text format into "name{labels}" -> value.
  function parseMetrics(text) {
    const out = {};
    for (const line of text.split('\n')) {
      if (!line || line[0] === '#') continue;
      const m = line.match(/^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{[^}]*\})?)\s+(\S+)/);
      if (m) out[m[1]] = Number(m[2]);
    }
    return out;
  }

  const show = (id, v) => { $(id).textContent = v === undefined || Number.isNaN(v) ? '–' : String(v); };

  function showHooks(m) {
    show('hook-backlog', m.jindou_webhook_backlog);
    show('hook-inflight', m.jindou_webhook_in_flight);
    show('hook-retrying', m.jindou_webhook_retrying_slots);
    show('hook-failures', m.jindou_webhook_failures_total);
    show('hook-delivered', m.jindou_webhook_delivered_total);
    const age = m.jindou_webhook_oldest_undelivered_seconds;
    show('hook-oldest', age === undefined ? undefined : age.toFixed(1));
  }

  function showRates(m, secs) {
    const rate = (k) => Math.max(0, ((m[k] || 0) - (last.m[k] || 0)) / secs);
    const recvs = rate('jindou_recv_sent_total');
    show('recv-rate', recvs.toFixed(1));
    show('ack-rate', rate('jindou_recvack_total').toFixed(1));
    show('resend-rate', rate('jindou_recv_resends_total').toFixed(1));
    show('offline-rate', rate('jindou_offline_recipients_total').toFixed(1));
    const acks = (m.jindou_recvack_latency_seconds_count || 0) - (last.m.jindou_recvack_latency_seconds_count || 0);
    const secsSum = (m.jindou_recvack_latency_seconds_sum || 0) - (last.m.jindou_recvack_latency_seconds_sum || 0);
    if (acks > 0) show('ack-latency', ((secsSum / acks) * 1000).toFixed(1));
    A.push(recvSpark, recvs);
    A.drawSpark($('recv-spark'), recvSpark);
  }

  async function pollMetrics() {
    let res;
    try {
      res = await fetch('/metrics', { headers: A.headers() });
    } catch (e) {
      return; // admin.js says the node does not answer
    }
    if (!res.ok) return; // no token yet: admin.js asks for it
    const m = parseMetrics(await res.text());
    const now = performance.now();
    show('recv-total', m.jindou_recv_sent_total);
    showHooks(m);
    if (last) showRates(m, (now - last.at) / 1000);
    last = { m, at: now };
    if (polls++ % CLUSTER_EVERY === 0) await loadCluster().catch(() => {});
  }

  function nodeRow(n) {
    const tr = document.createElement('tr');
    tr.dataset.id = n.id;
    const link = A.cell(n.up ? 'up' : 'down', n.up ? 'up' : 'down');
    tr.append(A.cell(n.self ? `${n.id} (this node)` : n.id), A.cell(n.peer_addr || '–'), A.cell(n.http_addr || '–'), link,
      A.cell(n.since ? new Date(n.since).toLocaleTimeString() : '–'), A.cell(n.leader_slots));
    return tr;
  }

  function slotRow(s, self) {
    const tr = document.createElement('tr');
    tr.dataset.slot = s.slot;
    if (s.leader === self) tr.className = 'led';
    tr.append(A.cell(s.slot), A.cell(s.leader || 'none'), A.cell((s.replicas || []).join(', ')), A.cell(s.role || '–'),
      A.cell(s.term), A.cell(s.applied), A.cell(s.commit), A.cell(s.log_entries), A.cell(s.proposals),
      A.cell(s.leader_changes), A.cell(s.snapshots_sent));
    return tr;
  }

  async function loadCluster() {
    const [nodes, slots] = await Promise.all([A.api('GET', '/cluster/nodes'), A.api('GET', '/cluster/slots')]);
    $('nodes').querySelector('tbody').replaceChildren(...nodes.nodes.map(nodeRow));
    $('slots-table').querySelector('tbody').replaceChildren(...slots.slots.map((s) => slotRow(s, slots.node_id)));
    const led = slots.slots.filter((s) => s.leader === slots.node_id).length;
    $('slots-summary').textContent = `${slots.slots.length} slots, ${led} led here, ${slots.replica_count} replica${slots.replica_count === 1 ? "" : "s"} per slot`;
  }

  // A channel's subscribers, SUBS_PAGE at a time; "more" reads the next page.
  let subs = null; // { id, type, after, uids }

  async function loadSubscribers() {
    const q = `channel_id=${encodeURIComponent(subs.id)}&channel_type=${subs.type}&limit=${SUBS_PAGE}` +
      (subs.after ? `&after=${encodeURIComponent(subs.after)}` : '');
    const p = await A.api('GET', `/channel/subscribers?${q}`);
    subs.uids.push(...p.subscribers);
    subs.after = p.subscribers.length ? p.subscribers[p.subscribers.length - 1] : subs.after;
    $('ch-subs-count').textContent = `${p.total} subscriber${p.total === 1 ? '' : 's'}${p.total ? ':' : ''}`;
    $('ch-subs-list').textContent = subs.uids.join(', ') + (p.more ? ` … (${subs.uids.length} shown)` : '');
    $('ch-subs-more').hidden = !p.more;
  }

  function channel(id, type) {
    subs = { id, type, after: '', uids: [] };
    $('ch-subs-more').hidden = true;
    loadSubscribers().catch((e) => { $('ch-subs-count').textContent = e.message; $('ch-subs-list').textContent = ''; });
  }

  $('ch-subs-more').onclick = () => loadSubscribers().catch((e) => { $('notice').textContent = e.message; });
  window.jindouOps = { channel };
  pollMetrics();
  setInterval(pollMetrics, POLL_MS);
})();
