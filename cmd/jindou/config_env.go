package main

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// envPrefix starts every environment variable that configures jindou.
const envPrefix = "JINDOU_"

// checkEnvKeys refuses JINDOU_ variables that name no configuration key,
// as the YAML file refuses unknown keys: a misspelt JINDOU_TOKENAUTH=true
// would otherwise leave token auth off without a word.
func checkEnvKeys(environ []string, known map[string]bool) error {
	var unknown []string
	for _, kv := range environ {
		name, _, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(name, envPrefix) {
			continue
		}
		key := strings.ToLower(strings.TrimPrefix(name, envPrefix))
		if known[key] {
			continue
		}
		if guess := closeKey(key, known); guess != "" {
			name += " (did you mean " + envPrefix + strings.ToUpper(guess) + "?)"
		}
		unknown = append(unknown, name)
	}
	if len(unknown) == 0 {
		return nil
	}
	slices.Sort(unknown)
	return fmt.Errorf("config: unknown environment variable %s", strings.Join(unknown, ", "))
}

// closeKey is the known key that key spells without its underscores
// (tokenauth for token_auth), or "".
func closeKey(key string, known map[string]bool) string {
	bare := strings.ReplaceAll(key, "_", "")
	for _, k := range slices.Sorted(maps.Keys(known)) {
		if strings.ReplaceAll(k, "_", "") == bare {
			return k
		}
	}
	return ""
}
