package e2e

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/jindou-im/jindou/node/proto"
	"github.com/jindou-im/jindou/wkclient"
)

// adminToken is the manager token of the admin test's node.
const adminToken = "admin-test-token"

// apiCall calls the node's API with the manager token (if not empty) and
// decodes the answer into out (if not nil).
func apiCall(t *testing.T, p *proc, token, method, path string, body, out any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, p.HTTP+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("token", token)
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	rb, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s %s: %s: %s", method, path, resp.Status, rb)
	}
	if out != nil {
		if err := json.Unmarshal(rb, out); err != nil {
			t.Fatalf("%s %s: %v: %s", method, path, err, rb)
		}
	}
}

// sendText sends text to a group through the API, as the system.
func sendText(t *testing.T, p *proc, token, group, text string) {
	t.Helper()
	payload := base64.StdEncoding.EncodeToString([]byte(fmt.Sprintf(`{"type":1,"content":%q}`, text)))
	apiCall(t, p, token, "POST", "/message/send", map[string]any{"channel_id": group, "channel_type": proto.ChannelGroup,
		"payload": payload}, nil)
}

// adminLines reads the channel inspector's messages as "from: text".
const adminLines = `[...document.querySelectorAll('#ch-messages li')].map(li => li.querySelector('.from').textContent + ': ' + li.lastChild.textContent)`

func TestAdminPageShowsTheNodeAndActsOnlyWithTheManagerToken(t *testing.T) {
	root := browser(t)
	p := startNode(t, nodeOpts{env: []string{"JINDOU_MANAGER_TOKEN=" + adminToken}})
	carol := dialTCP(t, p, "carol")
	dialTCP(t, p, "dave")
	apiCall(t, p, adminToken, "POST", "/channel/subscriber_add",
		map[string]any{"channel_id": "ops-room", "channel_type": proto.ChannelGroup, "subscribers": []string{"carol", "dave"}}, nil)
	for i := 1; i <= 3; i++ {
		sendText(t, p, adminToken, "ops-room", fmt.Sprintf("status report %d", i))
	}
	admin := page(t, root)

	// Without the token the page shows nothing of the node and offers no
	// actions.
	run(t, admin, "the page asks for the manager token", chromedp.Navigate(p.HTTP+"/web/"),
		waitJS(`document.querySelector('#notice').textContent.includes('manager token')`),
		waitJS(`document.querySelector('#mode').textContent === 'read-only'`))
	if n := eval[int](t, admin, `document.querySelectorAll('#conns tbody tr').length`); n != 0 {
		t.Fatalf("without the token the page lists %d connections", n)
	}

	// With it: the node's figures, its connections, and the actions.
	run(t, admin, "the token is given", chromedp.SendKeys(chromedp.CSS("#token"), adminToken),
		chromedp.Click(chromedp.CSS(`#unlock button`)),
		waitJS(`document.querySelector('#mode').textContent === 'manager'`),
		waitJS(`!!document.querySelector('#conns tr[data-uid="carol"]') && !!document.querySelector('#conns tr[data-uid="dave"]')`),
		waitJS(`document.querySelector('#connections').textContent === '2'`),
		waitJS(`document.querySelector('#stored').textContent === '3'`))

	// Live rates: sends while the page polls show as messages stored per
	// second.
	stop := time.Now().Add(3 * time.Second)
	for i := 0; time.Now().Before(stop); i++ {
		sendText(t, p, adminToken, "ops-room", fmt.Sprintf("load %d", i))
		time.Sleep(20 * time.Millisecond)
	}
	run(t, admin, "the page shows a send rate", waitJS(`parseFloat(document.querySelector('#sends-rate').textContent) > 0`))

	// A channel's recent messages, and a send as the system from the page.
	run(t, admin, "the channel's recent messages",
		chromedp.SendKeys(chromedp.CSS("#ch-id"), "ops-room"),
		chromedp.Click(chromedp.CSS(`#channel-form button`)),
		waitJS(`document.querySelectorAll('#ch-messages li').length === 20`))
	run(t, admin, "a send from the page", chromedp.SendKeys(chromedp.CSS("#ch-text"), "maintenance at noon"),
		chromedp.Click(chromedp.CSS(`#ch-send button`)),
		waitJS(`[...document.querySelectorAll('#ch-messages li')].some(li => li.textContent.endsWith('maintenance at noon'))`))
	recv := next[*proto.Recv](t, carol, "carol waiting for the first RECV")
	for recv.MessageSeq < 4 {
		recv = next[*proto.Recv](t, carol, "carol waiting for RECVs")
	}

	// Disconnecting dave from the page closes his connection.
	run(t, admin, "dave is disconnected from the page", chromedp.Click(chromedp.CSS(`#conns tr[data-uid="dave"] button.kick`)),
		waitJS(`!document.querySelector('#conns tr[data-uid="dave"]')`))
	var connz struct {
		Connections []struct{ UID string } `json:"connections"`
	}
	apiCall(t, p, adminToken, "GET", "/connz", nil, &connz)
	for _, c := range connz.Connections {
		if c.UID == "dave" {
			t.Fatalf("dave still connected after the page disconnected him: %+v", connz)
		}
	}
	req, _ := http.NewRequest("GET", p.HTTP+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+adminToken)
	resp, err := httpClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(metrics), "\njindou_kicks_total 1\n") {
		t.Errorf("/metrics does not count the disconnect as a kick")
	}
	run(t, admin, "carol's channels", chromedp.Click(chromedp.CSS(`#conns tr[data-uid="carol"] td.link`)),
		waitJS(`[...document.querySelectorAll('#user-convs tbody tr')].some(tr => tr.firstChild.textContent === 'ops-room')`))
	lines := eval[[]string](t, admin, adminLines)
	if last := lines[len(lines)-1]; last != "____system: maintenance at noon" {
		t.Errorf("the channel view's last message: %q, want the system's", last)
	}
	t.Logf("the admin page's channel view: %d messages, the last %q", len(lines), lines[len(lines)-1])
	screenshot(t, admin, "admin")
}

func TestAdminPageOfANodeWithoutManagerTokenIsReadOnly(t *testing.T) {
	root := browser(t)
	p := startNode(t, nodeOpts{})
	dialTCP(t, p, "erin")
	admin := page(t, root)
	run(t, admin, "the page reads the node",
		chromedp.Navigate(p.HTTP+"/web/"),
		waitJS(`!!document.querySelector('#conns tr[data-uid="erin"]')`),
		waitJS(`document.querySelector('#notice').textContent.startsWith('Read-only')`))
	for expr, want := range map[string]bool{
		`!!document.querySelector('#conns button.kick')`: false,
		`document.querySelector('#ch-send').hidden`:      true,
		`document.querySelector('#unlock').hidden`:       true,
	} {
		if got := eval[bool](t, admin, expr); got != want {
			t.Errorf("%s = %v, want %v", expr, got, want)
		}
	}
}

// hookSwitch is a webhook receiver that answers 500 while down and 200
// once up.
type hookSwitch struct {
	srv  *httptest.Server
	up   atomic.Bool
	hits atomic.Int64
}

func newHookSwitch(t *testing.T) *hookSwitch {
	h := &hookSwitch{}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		h.hits.Add(1)
		if !h.up.Load() {
			http.Error(w, "receiver down", http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(h.srv.Close)
	return h
}

// ackAll acknowledges every RECV c gets until its connection closes.
func ackAll(c *wkclient.NetClient) {
	go func() {
		for {
			p, err := c.Next(time.Time{})
			if err != nil {
				return
			}
			if r, ok := p.(*proto.Recv); ok {
				_ = c.Ack(r)
			}
		}
	}()
}

// TestAdminPageShowsSubscribersNodesSlotsWebhookBacklogAndDeliveryRates:
// the operator's sections show the node's real figures — a channel of 3
// subscribers lists 3, the slots table has every slot led by the node of
// one, the webhook backlog grows while the receiver is down and empties
// once it is back, and RECVs acknowledged by a client show as rates.
func TestAdminPageShowsSubscribersNodesSlotsWebhookBacklogAndDeliveryRates(t *testing.T) {
	root := browser(t)
	hook := newHookSwitch(t)
	p := startNode(t, nodeOpts{env: []string{"JINDOU_MANAGER_TOKEN=" + adminToken, "JINDOU_SLOTS=16",
		"JINDOU_WEBHOOK_HTTP_ADDR=" + hook.srv.URL, "JINDOU_WEBHOOK_FOCUS_EVENTS=msg.notify",
		"JINDOU_WEBHOOK_MAX_BACKOFF=500ms", "JINDOU_WEBHOOK_TIMEOUT=2s"}})
	ackAll(dialTCP(t, p, "carol"))
	apiCall(t, p, adminToken, "POST", "/channel/subscriber_add",
		map[string]any{"channel_id": "ops-watch", "channel_type": proto.ChannelGroup, "subscribers": []string{"carol", "dave", "erin"}}, nil)
	const stored = 5
	for i := range stored {
		sendText(t, p, adminToken, "ops-watch", fmt.Sprintf("while the receiver is down %d", i))
	}
	admin := page(t, root)
	run(t, admin, "the page is unlocked", chromedp.Navigate(p.HTTP+"/web/"),
		chromedp.SendKeys(chromedp.CSS("#token"), adminToken), chromedp.Click(chromedp.CSS(`#unlock button`)),
		waitJS(`document.querySelector('#mode').textContent === 'manager'`))

	// The webhook backlog: the receiver is down, so every stored message waits.
	run(t, admin, "the webhook backlog while the receiver is down",
		waitJS(fmt.Sprintf(`Number(document.querySelector('#hook-backlog').textContent) === %d`, stored)),
		waitJS(`Number(document.querySelector('#hook-failures').textContent) > 0`))
	backlogDown := eval[string](t, admin, `document.querySelector('#hook-backlog').textContent`)

	// Nodes and slots, from /cluster/nodes and /cluster/slots.
	run(t, admin, "the nodes and slots tables",
		waitJS(`document.querySelectorAll('#slots-table tbody tr').length === 16`),
		waitJS(`document.querySelectorAll('#slots-table tbody tr.led').length === 16`),
		waitJS(`document.querySelectorAll('#nodes tbody tr').length === 1`))
	if link := eval[string](t, admin, `document.querySelector('#nodes tbody tr td.up, #nodes tbody tr td.down').textContent`); link != "up" {
		t.Errorf("the node of one shows its link as %q", link)
	}
	proposals := eval[int](t, admin, `[...document.querySelectorAll('#slots-table tbody tr')].reduce((n, tr) => n + Number(tr.children[8].textContent), 0)`)
	if proposals < stored+1 {
		t.Errorf("the slots table counts %d proposals, fewer than the channel and its %d messages", proposals, stored)
	}

	// The channel's subscribers.
	run(t, admin, "the channel's subscribers",
		chromedp.SendKeys(chromedp.CSS("#ch-id"), "ops-watch"), chromedp.Click(chromedp.CSS(`#channel-form button`)),
		waitJS(`document.querySelector('#ch-subs-count').textContent === '3 subscribers:'`))
	if list := eval[string](t, admin, `document.querySelector('#ch-subs-list').textContent`); list != "carol, dave, erin" {
		t.Errorf("the channel's subscribers show as %q", list)
	}

	// Delivery rates: carol receives and acknowledges while the page polls.
	stop := time.Now().Add(3 * time.Second)
	for i := 0; time.Now().Before(stop); i++ {
		sendText(t, p, adminToken, "ops-watch", fmt.Sprintf("load %d", i))
		time.Sleep(20 * time.Millisecond)
	}
	run(t, admin, "the delivery rates",
		waitJS(`parseFloat(document.querySelector('#recv-rate').textContent) > 0`),
		waitJS(`parseFloat(document.querySelector('#ack-rate').textContent) > 0`),
		waitJS(`document.querySelector('#ack-latency').textContent !== '–'`))
	screenshot(t, admin, "admin-ops")

	// The receiver comes back: the backlog empties.
	hook.up.Store(true)
	run(t, admin, "the webhook backlog once the receiver is back",
		waitJS(`document.querySelector('#hook-backlog').textContent === '0'`),
		waitJS(`Number(document.querySelector('#hook-delivered').textContent) > 5`))
	t.Logf("webhook backlog %s while the receiver was down (%d POSTs), 0 once back; %d proposals in the slots table",
		backlogDown, hook.hits.Load(), proposals)
}

// TestAdminPageOfAClusterMemberShowsEveryNodesLinkAndEverySlotsReplicas:
// node 1's page lists the three members with their links up and the 16
// slots with their three replicas and leaders on several nodes; once node
// 3 stops, its link shows down.
func TestAdminPageOfAClusterMemberShowsEveryNodesLinkAndEverySlotsReplicas(t *testing.T) {
	root := browser(t)
	c := startCluster(t, clusterOpts{nodes: 3})
	admin := page(t, root)
	links := `[...document.querySelectorAll('#nodes tbody tr')].map(tr => tr.dataset.id + ':' + tr.children[3].textContent).join(' ')`
	run(t, admin, "the slots", chromedp.Navigate(c.node(0).HTTP+"/web/"),
		waitJS(`document.querySelectorAll('#slots-table tbody tr').length === 16`))
	run(t, admin, "the members and the slots",
		waitJS(links+` === '1:up 2:up 3:up'`),
		waitJS(`[...document.querySelectorAll('#slots-table tbody tr')].every(tr => tr.children[2].textContent.split(', ').sort().join(',') === '1,2,3')`))
	leaders := eval[[]string](t, admin, `[...new Set([...document.querySelectorAll('#slots-table tbody tr')].map(tr => tr.children[1].textContent))].sort()`)
	if len(leaders) < 2 {
		t.Errorf("the 16 slots are led by %v; placement spreads first replicas over the members", leaders)
	}
	screenshot(t, admin, "admin-cluster")
	c.stop(2)
	run(t, admin, "node 3's link goes down", waitJS(links+` === '1:up 2:up 3:down'`))
	t.Logf("slot leaders %v; after node 3 stopped the nodes table reads %s", leaders, eval[string](t, admin, links))
}
