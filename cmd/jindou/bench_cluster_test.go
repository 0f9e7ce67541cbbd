package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestBenchClusterReadsEveryLiveMemberAndSpreadsClientsOverThem(t *testing.T) {
	metrics := func(cpu float64) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(w, "%s %g\n%s 10\n%s 2\n", metricCPU, cpu, metricStored, metricDiskCommits)
		}
	}
	n2 := httptest.NewServer(metrics(2.5))
	defer n2.Close()
	var n1 *httptest.Server
	n1 = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/metrics" {
			metrics(1)(w, r)
			return
		}
		fmt.Fprintf(w, `{"node_id":1,"nodes":[{"id":1,"tcp_addr":"127.0.0.1:1","http_addr":"","self":true,"up":true},`+
			`{"id":2,"tcp_addr":"127.0.0.1:2","http_addr":%q,"up":true},{"id":3,"tcp_addr":"127.0.0.1:3","http_addr":"http://x","up":false}]}`, n2.URL)
	}))
	defer n1.Close()
	o := &benchOpts{http: n1.URL, cluster: true}
	if err := o.resolveNodes(); err != nil {
		t.Fatal(err)
	}
	if o.tcp != "127.0.0.1:1,127.0.0.1:2" || len(o.nodes) != 2 || o.nodes[0].http != n1.URL || o.nodes[1].http != n2.URL {
		t.Fatalf("nodes %+v, tcp %q: want the two live members, node 1 at --http", o.nodes, o.tcp)
	}
	if o.nodeOf(0) != 0 || o.nodeOf(1) != 1 || o.nodeOf(2) != 0 {
		t.Errorf("clients 0, 1, 2 on nodes %d, %d, %d: want 0, 1, 0", o.nodeOf(0), o.nodeOf(1), o.nodeOf(2))
	}
	s, source, err := o.sampleServers(0)
	if err != nil || s.cpu != 3.5 || s.stored != 20 || s.commits != 4 || !strings.Contains(source, "2 nodes") {
		t.Errorf("summed sample %+v from %q (%v): want cpu 3.5, stored 20, commits 4 over 2 nodes", s, source, err)
	}
	if _, _, err := o.sampleServers(42); err == nil {
		t.Error("--pid with two nodes: want an error, it reads one process")
	}
	by := o.fanoutByNode(newNodeCounts(2), 5, time.Time{})
	if by[0].Members != 3 || by[1].Members != 2 {
		t.Errorf("5 members over 2 nodes: %d and %d, want 3 and 2", by[0].Members, by[1].Members)
	}
}

func TestBenchNodeListsMustPairTCPWithHTTP(t *testing.T) {
	o := &benchOpts{tcp: "a:1,b:2,c:3", http: "http://a,http://b"}
	if err := o.resolveNodes(); err == nil {
		t.Error("3 TCP and 2 HTTP addresses: want an error")
	}
	o = &benchOpts{tcp: "a:1,b:2", http: "http://a"}
	if err := o.resolveNodes(); err != nil || len(o.nodes) != 2 || len(o.counterNodes()) != 1 || o.http != "http://a" {
		t.Errorf("two TCP addresses and one HTTP: %+v, %v; want the clients spread, the counters of the one node", o.nodes, err)
	}
}
