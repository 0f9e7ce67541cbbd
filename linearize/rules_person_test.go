package linearize

import "testing"

// A person chat's sends are judged by the other side's own lists, changed
// under that channel's name: a whitelist that names someone else refuses
// every other sender; no subscription is asked.
func TestPersonSendsAreJudgedByTheRecipientsOwnLists(t *testing.T) {
	h := newHist()
	h.Modelled("1:p", ChannelRules{Person: true})
	h.ModelledBy("1:a@p", "1:p")
	h.ModelledBy("1:b@p", "1:p")
	h.RuleChanged(ms(1000), ms(1010), RuleChange{Channel: "1:p", What: "black-add", UIDs: []string{"a"}})
	h.RuleChanged(ms(2000), ms(2010), RuleChange{Channel: "1:p", What: "black-remove", UIDs: []string{"a"}})
	h.RuleChanged(ms(3000), ms(3010), RuleChange{Channel: "1:p", What: "white-add", UIDs: []string{"a"}})
	h.sendOK("a1", "1:a@p", "a", "a-1", 500, 510, 1, 1)
	h.sendRefused("a2", "1:a@p", "a", "a-2", 1500, 1510, RefusedBlacklist)
	h.sendOK("b1", "1:b@p", "b", "b-1", 1500, 1510, 1, 1) // a's blacklisting is not b's
	h.sendOK("a3", "1:a@p", "a", "a-3", 3500, 3510, 2, 2)
	h.sendRefused("b2", "1:b@p", "b", "b-2", 3500, 3510, RefusedNotWhitelist)
	h.FinalLog("1:a@p", []Message{msg(1, 1, "a", "a-1"), msg(2, 2, "a", "a-3")})
	h.FinalLog("1:b@p", []Message{msg(1, 1, "b", "b-1")})
	if vs := h.CheckRules(); len(vs) != 0 {
		t.Fatalf("a history the recipient's lists allow: %v", vs)
	}
	// Planted: accepted while blacklisted.
	h.sendOK("a4", "1:a@p", "a", "a-4", 1600, 1610, 3, 3)
	h.FinalLog("1:a@p", []Message{msg(1, 1, "a", "a-1"), msg(2, 2, "a", "a-3"), msg(3, 3, "a", "a-4")})
	onlyKind(t, h.CheckRules(), WrongRefusal, `answered "ok"`, "allowed only blacklist", "1:p black-add a")
}
