package main

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/knadh/koanf/parsers/yaml"
)

// The compose files (docker-compose.yaml: one node; docker-compose.cluster.yaml:
// three) are checked without a docker daemon: each service's environment,
// with the image's own (the Dockerfile's ENV), must be a configuration
// this binary accepts, and the cluster's nodes must form one cluster.

type composeService struct {
	name  string
	env   []string // KEY=value
	ports []string
	vols  []string
}

func readCompose(t *testing.T, name string) []composeService {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", name))
	if err != nil {
		t.Fatal(err)
	}
	doc, err := yaml.Parser().Unmarshal(raw)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	services, _ := doc["services"].(map[string]any)
	var out []composeService
	for _, svc := range slices.Sorted(mapsKeys(services)) {
		spec, _ := services[svc].(map[string]any)
		s := composeService{name: svc, env: imageEnv(t)}
		env, _ := spec["environment"].(map[string]any)
		for _, k := range slices.Sorted(mapsKeys(env)) {
			s.env = append(s.env, k+"="+toString(env[k]))
		}
		s.ports = strs(spec["ports"])
		s.vols = strs(spec["volumes"])
		if spec["image"] == nil || spec["build"] == nil {
			t.Errorf("%s: service %s has no image or build (the anchor did not merge?)", name, svc)
		}
		out = append(out, s)
	}
	return out
}

// imageEnv is the Dockerfile's JINDOU_* ENV, which every service runs with.
func imageEnv(t *testing.T) []string {
	raw, err := os.ReadFile(filepath.Join("..", "..", "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	return regexp.MustCompile(`JINDOU_[A-Z_]+=\S+`).FindAllString(string(raw), -1)
}

func mapsKeys(m map[string]any) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

func strs(v any) []string {
	list, _ := v.([]any)
	var out []string
	for _, x := range list {
		out = append(out, toString(x))
	}
	return out
}

func toString(v any) string {
	s, _ := v.(string)
	return s
}

// hostPort is the host side of a compose port mapping "host:container".
func hostPort(p string) string { return strings.SplitN(p, ":", 2)[0] }

func TestComposeNodeOfOneIsAConfigurationTheBinaryAccepts(t *testing.T) {
	svcs := readCompose(t, "docker-compose.yaml")
	if len(svcs) != 1 {
		t.Fatalf("docker-compose.yaml has %d services, want one node", len(svcs))
	}
	cfg, err := loadConfig("", svcs[0].env, nil)
	if err != nil {
		t.Fatalf("the node's environment: %v", err)
	}
	if cc, err := cfg.cluster(); err != nil || len(cc.members) != 0 || cfg.DataDir != "/data" {
		t.Fatalf("a node alone with data in /data: members %v, data dir %q, %v", cc.members, cfg.DataDir, err)
	}
}

func TestComposeClusterIsThreeNodesOfOneClusterTheBinaryAccepts(t *testing.T) {
	svcs := readCompose(t, "docker-compose.cluster.yaml")
	if len(svcs) != 3 {
		t.Fatalf("docker-compose.cluster.yaml has %d services, want 3 nodes", len(svcs))
	}
	ids, hostPorts, volumes := map[uint64]string{}, map[string]string{}, map[string]string{}
	var members, token string
	for _, s := range svcs {
		cfg, err := loadConfig("", s.env, nil)
		if err != nil {
			t.Fatalf("%s's environment: %v", s.name, err)
		}
		cc, err := cfg.cluster()
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if other, dup := ids[cfg.NodeID]; dup {
			t.Fatalf("%s and %s are both node %d", s.name, other, cfg.NodeID)
		}
		ids[cfg.NodeID] = s.name
		list := strings.Join(cfg.ClusterNodes, ",")
		if members == "" {
			members, token = list, cc.token
		}
		if list != members || cc.token != token {
			t.Fatalf("%s's cluster_nodes %q or cluster_token differ from the others' %q", s.name, list, members)
		}
		self := slices.IndexFunc(cc.members, func(m clusterMember) bool { return m.id == cfg.NodeID })
		if host := strings.Split(cc.members[self].addr, ":")[0]; host != s.name {
			t.Fatalf("node %d's peer address %s is not its service %s (which the others resolve)", cfg.NodeID, cc.members[self].addr, s.name)
		}
		for _, p := range s.ports {
			if other, dup := hostPorts[hostPort(p)]; dup {
				t.Fatalf("%s and %s both publish host port %s", s.name, other, hostPort(p))
			}
			hostPorts[hostPort(p)] = s.name
		}
		for _, v := range s.vols {
			if other, dup := volumes[v]; dup || !strings.HasSuffix(v, ":"+cfg.DataDir) {
				t.Fatalf("%s's volume %s: shared with %q, or not its data dir %s", s.name, v, other, cfg.DataDir)
			}
			volumes[v] = s.name
		}
		if !strings.Contains(cfg.ExternalTCPAddr, hostPort(s.ports[0])) {
			t.Errorf("%s advertises %s to clients, not its published TCP port %s", s.name, cfg.ExternalTCPAddr, hostPort(s.ports[0]))
		}
	}
	if len(strings.Split(members, ",")) != 3 {
		t.Fatalf("cluster_nodes %q, want the three nodes", members)
	}
}
