package scenarios

import (
	"fmt"
	"slices"
	"strings"
)

// slotView is one slot of a node's /cluster/slots.
type slotView struct {
	Slot   int    `json:"slot"`
	Leader uint64 `json:"leader"`
	Role   string `json:"role"`
}

// leaderOf asks each up node whether it leads slot, as the simulator's
// world does.
func (b *realBackend) leaderOf(slot int) (int, error) {
	for _, id := range b.nodeIDs() {
		p, err := b.proc(id)
		if err != nil {
			continue
		}
		var v struct {
			Slots []slotView `json:"slots"`
		}
		if err := getJSON(p, "/cluster/slots", &v); err != nil {
			return 0, fmt.Errorf("node %d: %w", id, err)
		}
		if i := slices.IndexFunc(v.Slots, func(s slotView) bool { return s.Slot == slot }); i >= 0 && v.Slots[i].Role == "leader" {
			return id, nil
		}
	}
	return 0, nil
}

// isolate cuts every proxied link to and from node id: a timeout toxic of
// 0 on both streams drops every byte and keeps the connections open.
func (b *realBackend) isolate(id int) error {
	if _, err := b.node(id); err != nil {
		return err
	}
	if len(b.links) == 0 {
		return &skippedError{"real", "partition: a node alone has no peer links"}
	}
	for k := range b.links {
		if (k[0] == id-1 || k[1] == id-1) && !b.cut[k] {
			for _, dir := range []string{"upstream", "downstream"} {
				body := fmt.Sprintf(`{"name":"cut-%s","type":"timeout","stream":%q,"attributes":{"timeout":0}}`, dir, dir)
				if _, err := b.links[k].Toxics.AddToxicJson(strings.NewReader(body)); err != nil {
					return fmt.Errorf("cutting %d->%d: %w", k[0]+1, k[1]+1, err)
				}
			}
			b.cut[k] = true
		}
	}
	return nil
}

// heal removes every cut; removing a toxic closes the link's connections,
// and the node dials again.
func (b *realBackend) heal() error {
	for k := range b.cut {
		for _, dir := range []string{"upstream", "downstream"} {
			if err := b.links[k].Toxics.RemoveToxic(b.t.Context(), "cut-"+dir); err != nil {
				return fmt.Errorf("healing %d->%d: %w", k[0]+1, k[1]+1, err)
			}
		}
		delete(b.cut, k)
	}
	return nil
}
