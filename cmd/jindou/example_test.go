package main

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestExampleConfigurationDocumentsEveryKeyAtItsDefault keeps
// jindou.example.yaml whole: it loads, every key is in it, each set to the
// embedded default.
func TestExampleConfigurationDocumentsEveryKeyAtItsDefault(t *testing.T) {
	path := filepath.Join("..", "..", "jindou.example.yaml")
	cfg, err := loadConfig(path, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(cfg, defaultConfig()) {
		t.Errorf("the example sets\n%+v\nthe defaults are\n%+v", cfg, defaultConfig())
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	def := defaultConfig()
	for _, f := range def.fields() {
		if !strings.Contains(string(raw), "\n"+f.key+":") {
			t.Errorf("jindou.example.yaml lacks %s", f.key)
		}
	}
}
