package main

import (
	"fmt"
	"io"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/knadh/koanf/parsers/yaml"
	"github.com/knadh/koanf/providers/confmap"
	"github.com/knadh/koanf/v2"
	"github.com/spf13/cobra"
)

func configCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "config", Short: "Work with configuration files"}
	cmd.AddCommand(&cobra.Command{
		Use:   "from-wk WK_YAML",
		Short: "Print the Jindou configuration equivalent to a WuKongIM wk.yaml, and the keys without an equivalent",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			raw, err := os.ReadFile(args[0])
			if err != nil {
				return err
			}
			return fromWK(raw, cmd.OutOrStdout())
		},
	})
	return cmd
}

// wkKey is how one WuKongIM key becomes a Jindou one: key and a
// conversion of the value (nil: as it is).
type wkKey struct {
	key     string
	convert func(v string) (string, error)
}

// wkKeys are the WuKongIM keys (v2, config/wk.yaml) with a Jindou
// equivalent. external.ip, mode and logger.level are handled by fromWK.
var wkKeys = map[string]wkKey{
	"addr":                  {"tcp_addr", stripScheme("tcp://")},
	"httpAddr":              {"http_addr", nil},
	"wsAddr":                {"ws_addr", stripScheme("ws://")},
	"rootDir":               {"data_dir", nil},
	"dataDir":               {"data_dir", nil},
	"tokenAuthOn":           {"token_auth", nil},
	"managerToken":          {"manager_token", nil},
	"external.tcpAddr":      {"external_tcp_addr", nil},
	"external.wsAddr":       {"external_ws_addr", nil},
	"external.wssAddr":      {"external_wss_addr", nil},
	"pprofOn":               {"pprof", onOff},
	"demo.on":               {"demo", nil},
	"messageRetry.interval": {"resend_interval", nil},
	"messageRetry.maxCount": {"resend_max", nil},
	"cluster.nodeId":        {"node_id", nil},
	"cluster.slotCount":     {"slots", nil},
	"webhook.httpAddr":      {"webhook_http_addr", nil},
}

func stripScheme(scheme string) func(string) (string, error) {
	return func(v string) (string, error) { return strings.TrimPrefix(v, scheme), nil }
}

func onOff(v string) (string, error) {
	b, err := strconv.ParseBool(v)
	if err != nil {
		return "", fmt.Errorf("%q is not a boolean", v)
	}
	if b {
		return "on", nil
	}
	return "off", nil
}

// wkLevels are WuKongIM's logger.level numbers.
var wkLevels = map[string]string{"1": "debug", "2": "info", "3": "warn", "4": "error"}

// fromWK writes the Jindou YAML equivalent to a wk.yaml, with the keys
// that have no equivalent listed as comments at the end.
func fromWK(raw []byte, w io.Writer) error {
	m, err := yaml.Parser().Unmarshal(raw)
	if err != nil {
		return fmt.Errorf("wk.yaml: %w", err)
	}
	k := koanf.New(".")
	if err := k.Load(confmap.Provider(m, "."), nil); err != nil {
		return fmt.Errorf("wk.yaml: %w", err)
	}
	out := map[string]string{}
	var unmapped []string
	for _, key := range k.Keys() {
		v := k.String(key)
		switch {
		case key == "external.ip", key == "mode", key == "logger.level":
			continue // below
		case wkKeys[key].key != "":
			conv := wkKeys[key]
			if conv.convert != nil {
				if v, err = conv.convert(v); err != nil {
					return fmt.Errorf("wk.yaml: %s: %w", key, err)
				}
			}
			out[conv.key] = v
		default:
			unmapped = append(unmapped, key)
		}
	}
	if err := wkLevel(k, out, &unmapped); err != nil {
		return err
	}
	wkExternalIP(k.String("external.ip"), out)
	return writeFromWK(w, out, unmapped)
}

// wkLevel maps logger.level, or mode when the level is 0 or unset (debug
// mode logs at debug, the others at info).
func wkLevel(k *koanf.Koanf, out map[string]string, unmapped *[]string) error {
	if lv := k.String("logger.level"); lv != "" && lv != "0" {
		name, ok := wkLevels[lv]
		if !ok {
			return fmt.Errorf("wk.yaml: logger.level: %q is not 0..4", lv)
		}
		out["log_level"] = name
	} else if mode := k.String("mode"); mode == "debug" {
		out["log_level"] = "debug"
	}
	if k.Exists("mode") && k.String("mode") != "debug" && k.String("mode") != "release" {
		*unmapped = append(*unmapped, "mode")
	}
	return nil
}

// wkExternalIP: WuKongIM's external.ip is the host clients reach; Jindou
// takes whole addresses, the listeners' ports at that host.
func wkExternalIP(ip string, out map[string]string) {
	if ip == "" {
		return
	}
	port := func(key, def string) string {
		addr := out[key]
		if addr == "" {
			addr = def
		}
		if _, p, err := net.SplitHostPort(addr); err == nil {
			return p
		}
		return ""
	}
	def := defaultConfig()
	if _, set := out["external_tcp_addr"]; !set {
		if p := port("tcp_addr", def.TCPAddr); p != "" {
			out["external_tcp_addr"] = net.JoinHostPort(ip, p)
		}
	}
	if _, set := out["external_ws_addr"]; !set {
		if p := port("ws_addr", def.WSAddr); p != "" {
			out["external_ws_addr"] = "ws://" + net.JoinHostPort(ip, p)
		}
	}
}

func writeFromWK(w io.Writer, out map[string]string, unmapped []string) error {
	keys := make([]string, 0, len(out))
	for key := range out {
		keys = append(keys, key)
	}
	slices.Sort(keys)
	var b strings.Builder
	b.WriteString("# Jindou configuration converted from a WuKongIM wk.yaml by `jindou config from-wk`.\n")
	b.WriteString("# Every key is documented in jindou.example.yaml.\n")
	for _, key := range keys {
		fmt.Fprintf(&b, "%s: %s\n", key, strconv.Quote(out[key]))
	}
	if len(unmapped) > 0 {
		slices.Sort(unmapped)
		b.WriteString("\n# WuKongIM keys with no equivalent in Jindou (not converted):\n")
		for _, key := range unmapped {
			fmt.Fprintf(&b, "#   %s\n", key)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}
