package main

import (
	"bytes"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestFromWKPrintsAnEquivalentConfigurationAndListsTheRest(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("testdata", "wk.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := fromWK(raw, &out); err != nil {
		t.Fatal(err)
	}
	// The output is a configuration `jindou run` accepts as it is.
	path := filepath.Join(t.TempDir(), "jindou.yaml")
	if err := os.WriteFile(path, out.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := loadConfig(path, nil, nil)
	if err != nil {
		t.Fatalf("the converted file does not load: %v\n%s", err, out.String())
	}
	want := defaultConfig()
	want.NodeID, want.DataDir, want.Slots = 1001, "./wukongimdata/1", 128
	want.TokenAuth, want.ManagerToken, want.Pprof, want.Demo = true, "s3cret", "on", false
	want.ExternalTCPAddr, want.ExternalWSAddr, want.ExternalWSSAddr = "203.0.113.9:5100", "ws://203.0.113.9:5200", "wss://im.example.com:5210"
	want.LogLevel, want.ResendInterval, want.ResendMax = "warn", 30*time.Second, 3
	want.WebhookHTTPAddr = "http://127.0.0.1:8080/webhook"
	if !reflect.DeepEqual(cfg, want) {
		t.Errorf("converted configuration\n%+v\nwant\n%+v", cfg, want)
	}
	for _, key := range []string{"manager.on", "manager.addr", "conversation.on", "logger.dir"} {
		if !strings.Contains(out.String(), "#   "+key+"\n") {
			t.Errorf("%s is not listed as having no equivalent:\n%s", key, out.String())
		}
	}
}

func TestFromWKRefusesABadLevel(t *testing.T) {
	err := fromWK([]byte("logger:\n  level: 9\n"), &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "logger.level") {
		t.Fatalf("level 9: %v, want an error naming logger.level", err)
	}
}

func TestABoundToAnyListenerIsAdvertisedAtTheHostsFirstNonLoopbackAddress(t *testing.T) {
	pick := func() (net.IP, bool) { return net.ParseIP("10.1.2.3"), true }
	none := func() (net.IP, bool) { return nil, false }
	for _, c := range []struct {
		bound  string
		pick   func() (net.IP, bool)
		want   string
		chosen bool
	}{
		{"0.0.0.0:5100", pick, "10.1.2.3:5100", true},
		{"[::]:5200", pick, "10.1.2.3:5200", true},
		{"0.0.0.0:5100", none, "127.0.0.1:5100", true},
		{"192.168.1.5:5100", pick, "192.168.1.5:5100", false},
		{"127.0.0.1:5100", pick, "127.0.0.1:5100", false},
	} {
		a, err := net.ResolveTCPAddr("tcp", c.bound)
		if err != nil {
			t.Fatal(err)
		}
		got, chosen := reachable(a, c.pick)
		if got != c.want || chosen != c.chosen {
			t.Errorf("bound %s: %s (chosen %v), want %s (%v)", c.bound, got, chosen, c.want, c.chosen)
		}
	}
}

func TestFirstNonLoopbackPrefersIPv4AndSkipsLoopbackAndLinkLocal(t *testing.T) {
	cidr := func(s string) net.Addr {
		ip, n, err := net.ParseCIDR(s)
		if err != nil {
			t.Fatal(err)
		}
		n.IP = ip
		return n
	}
	addrs := []net.Addr{cidr("127.0.0.1/8"), cidr("::1/128"), cidr("fe80::1/64"), cidr("2001:db8::5/64"), cidr("172.17.0.2/16")}
	if ip, ok := firstNonLoopback(addrs); !ok || ip.String() != "172.17.0.2" {
		t.Errorf("got %v %v, want 172.17.0.2", ip, ok)
	}
	if ip, ok := firstNonLoopback(addrs[:4]); !ok || ip.String() != "2001:db8::5" {
		t.Errorf("without IPv4: got %v %v, want 2001:db8::5", ip, ok)
	}
	if _, ok := firstNonLoopback(addrs[:2]); ok {
		t.Error("loopback only: want none")
	}
}

func TestVersionFlagAndCommandPrintTheSameBuild(t *testing.T) {
	for _, args := range [][]string{{"--version"}, {"version"}} {
		cmd := rootCmd()
		var out bytes.Buffer
		cmd.SetOut(&out)
		cmd.SetArgs(args)
		if err := cmd.Execute(); err != nil || out.String() != "jindou "+buildVersion()+"\n" {
			t.Errorf("%v: %q, %v", args, out.String(), err)
		}
	}
}
