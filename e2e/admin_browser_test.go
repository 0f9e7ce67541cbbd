package e2e

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/jindou-im/jindou/node/proto"
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
