package lint

import (
	"bytes"
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"go/types"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// exports runs `go list -export -deps` over the core and the standard
// packages the planted files import, and maps each import path to its
// export data.
func exports(t *testing.T) map[string]string {
	t.Helper()
	cmd := exec.Command("go", "list", "-export", "-deps", "-json=ImportPath,Export", "./node/...", "maps", "slices", "sort", "fmt", "strings")
	cmd.Dir = "../.."
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list -export: %v", err)
	}
	m := map[string]string{}
	dec := json.NewDecoder(bytes.NewReader(out))
	for dec.More() {
		var p struct{ ImportPath, Export string }
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		m[p.ImportPath] = p.Export
	}
	return m
}

// mapOrder type-checks the files of one package and runs the map-order
// rule on them.
func mapOrder(t *testing.T, fset *token.FileSet, imp types.Importer, path string, files []string) []Violation {
	t.Helper()
	var parsed []*ast.File
	for _, name := range files {
		f, err := parser.ParseFile(fset, name, nil, parser.ParseComments|parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		parsed = append(parsed, f)
	}
	info, err := TypeCheck(fset, path, parsed, imp)
	if err != nil {
		t.Fatalf("type-checking %s: %v", path, err)
	}
	return CheckMapOrder(fset, parsed, info)
}

func TestCoreRangesOverMapsOnlyWhereTheOrderCannotReachOutput(t *testing.T) {
	fset := token.NewFileSet()
	imp := ExportImporter(fset, exports(t))
	pkgs := corePackages(listModule(t))
	files := 0
	for _, p := range pkgs {
		var names []string
		for _, f := range p.GoFiles {
			names = append(names, filepath.Join(p.Dir, f))
		}
		files += len(names)
		for _, v := range mapOrder(t, fset, imp, p.ImportPath, names) {
			t.Errorf("%s", v)
		}
	}
	if !slices.ContainsFunc(pkgs, func(p listedPackage) bool { return p.ImportPath == module+"/node" }) || files < 20 {
		t.Fatalf("checked %d files of %d packages: node/ itself is missing", files, len(pkgs))
	}
	t.Logf("checked %d files of %d packages", files, len(pkgs))
}

func TestPlantedMapOrderLeaksAreCaught(t *testing.T) {
	fset := token.NewFileSet()
	imp := ExportImporter(fset, exports(t))
	path := filepath.Join("testdata", "maporder", "bad", "bad.go")
	got := mapOrder(t, fset, imp, "example.com/bad", []string{path})
	want := wantComments(t, path)
	if len(want) < 10 {
		t.Fatalf("only %d planted leaks in %s", len(want), path)
	}
	for line, rule := range want {
		if !slices.ContainsFunc(got, func(v Violation) bool { return v.Pos.Line == line && strings.Contains(v.Rule, rule) }) {
			t.Errorf("line %d: the planted %q went unreported (got %v)", line, rule, got)
		}
	}
	for _, v := range got {
		if _, planted := want[v.Pos.Line]; !planted {
			t.Errorf("unexpected report: %s", v)
		}
	}
}

func TestOrderFreeMapRangesPass(t *testing.T) {
	fset := token.NewFileSet()
	imp := ExportImporter(fset, exports(t))
	path := filepath.Join("testdata", "maporder", "good", "good.go")
	f, err := parser.ParseFile(fset, path, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	ranges := 0
	ast.Inspect(f, func(n ast.Node) bool {
		if _, ok := n.(*ast.RangeStmt); ok {
			ranges++
		}
		return true
	})
	if ranges < 10 {
		t.Fatalf("only %d ranges in %s", ranges, path)
	}
	for _, v := range mapOrder(t, fset, imp, "example.com/good", []string{path}) {
		t.Errorf("false positive: %s", v)
	}
}
