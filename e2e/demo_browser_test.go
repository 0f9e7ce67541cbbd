package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/jindou-im/jindou/node/proto"
)

// messagesJS reads the open conversation's messages off the page as
// "from: text" lines.
const messagesJS = `[...document.querySelectorAll('#messages li')].map(li => li.dataset.from + ': ' + li.querySelector('.text').textContent)`

// demoLogin opens the demo and logs in as name; the SDK is connected when
// the status badge says so.
func demoLogin(t *testing.T, ctx context.Context, url, name string) {
	t.Helper()
	run(t, ctx, name+" logs in",
		chromedp.Navigate(url+"/demo/"),
		chromedp.WaitVisible(chromedp.CSS("#name")),
		chromedp.SendKeys(chromedp.CSS("#name"), name),
		chromedp.Click(chromedp.CSS("#login-btn")),
		waitJS(`document.querySelector('#status').classList.contains('connected')`),
		waitJS(`document.querySelector('#chat-title').textContent === '# lobby'`))
}

// demoSend types text into the open conversation and waits for its
// SENDACK (the message loses its pending look and has a seq).
func demoSend(t *testing.T, ctx context.Context, who, text string) {
	t.Helper()
	run(t, ctx, who+" sends "+strconv.Quote(text),
		chromedp.SendKeys(chromedp.CSS("#text"), text),
		chromedp.Click(chromedp.CSS("#send")),
		waitJS(fmt.Sprintf(`[...document.querySelectorAll('#messages li.mine')].some(li =>
			li.querySelector('.text').textContent === %q && li.dataset.seq && !li.classList.contains('pending'))`, text)))
}

// waitMessage waits until the open conversation shows line ("from: text").
func waitMessage(t *testing.T, ctx context.Context, who, line string) {
	t.Helper()
	run(t, ctx, who+" sees "+strconv.Quote(line), waitJS(fmt.Sprintf(`(%s).includes(%q)`, messagesJS, line)))
}

func TestTwoBrowsersChatInTheDemoPersonToPersonAndInTheGroup(t *testing.T) {
	root := browser(t)
	p := startNode(t, nodeOpts{})
	needBundle(t, p)
	alice, bob := page(t, root), page(t, root)
	demoLogin(t, alice, p.HTTP, "alice")
	demoLogin(t, bob, p.HTTP, "bob")

	// Each sees the other online.
	run(t, alice, "alice sees bob online", waitJS(`!!document.querySelector('#online li[data-uid="bob"]')`))
	run(t, bob, "bob sees alice online", waitJS(`!!document.querySelector('#online li[data-uid="alice"]')`))

	// The group: both have the lobby open.
	demoSend(t, alice, "alice", "hello lobby, alice here")
	waitMessage(t, bob, "bob", "alice: hello lobby, alice here")
	demoSend(t, bob, "bob", "hi all, bob too")
	waitMessage(t, alice, "alice", "bob: hi all, bob too")

	// Person to person: alice opens bob from the online list; bob, still in
	// the lobby, gets an unread count on a new conversation with alice.
	run(t, alice, "alice opens bob", chromedp.Click(chromedp.CSS(`#online li[data-uid="bob"]`)),
		waitJS(`document.querySelector('#chat-title').textContent === 'bob'`))
	demoSend(t, alice, "alice", "bob, a private word")
	run(t, bob, "bob has 1 unread from alice",
		waitJS(`(document.querySelector('#conversations li[data-channel="1:alice"] .unread') || {}).textContent === '1'`))
	run(t, bob, "bob opens alice", chromedp.Click(chromedp.CSS(`#conversations li[data-channel="1:alice"]`)),
		waitJS(`document.querySelector('#chat-title').textContent === 'alice'`))
	waitMessage(t, bob, "bob", "alice: bob, a private word")
	run(t, bob, "opening the conversation clears its unread count",
		waitJS(`!document.querySelector('#conversations li[data-channel="1:alice"] .unread')`))
	demoSend(t, bob, "bob", "alice, got it ✓")
	waitMessage(t, alice, "alice", "bob: alice, got it ✓")

	// What the pages show is what the node stored.
	for _, h := range []struct {
		login, channel string
		typ            uint8
		want           []string
	}{
		{"alice", "lobby", uint8(proto.ChannelGroup), []string{"alice: hello lobby, alice here", "bob: hi all, bob too"}},
		{"alice", "bob", uint8(proto.ChannelPerson), []string{"alice: bob, a private word", "bob: alice, got it ✓"}},
	} {
		var got []string
		for _, m := range p.history(h.login, h.channel, h.typ) {
			got = append(got, m.FromUID+": "+sdkText(t, m.Payload))
		}
		if !slices.Equal(got, h.want) {
			t.Errorf("the node's history of %s: %q, want %q", h.channel, got, h.want)
		}
	}

	// History on reload: alice reloads, is logged in again, and finds both
	// conversations as they were.
	run(t, alice, "alice reloads", chromedp.Reload(),
		waitJS(`document.querySelector('#status').classList.contains('connected')`))
	run(t, alice, "alice sees the lobby's history", waitJS(fmt.Sprintf(`JSON.stringify(%s) === %q`, messagesJS,
		`["alice: hello lobby, alice here","bob: hi all, bob too"]`)))
	run(t, alice, "alice opens bob again", chromedp.Click(chromedp.CSS(`#conversations li[data-channel="1:bob"]`)),
		waitJS(fmt.Sprintf(`JSON.stringify(%s) === %q`, messagesJS, `["alice: bob, a private word","bob: alice, got it ✓"]`)))
	lines := eval[[]string](t, alice, messagesJS)
	t.Logf("alice's page after reload, conversation with bob: %q", lines)
	screenshot(t, alice, "demo-alice")
	screenshot(t, bob, "demo-bob")
}

// sdkText is the text of the SDK's text message payload,
// {"type":1,"content":"..."}.
func sdkText(t *testing.T, payload []byte) string {
	t.Helper()
	var c struct {
		Type    int    `json:"type"`
		Content string `json:"content"`
	}
	if err := json.Unmarshal(payload, &c); err != nil || c.Type != 1 {
		t.Fatalf("payload %q is not the SDK's text message (%v)", payload, err)
	}
	return c.Content
}
