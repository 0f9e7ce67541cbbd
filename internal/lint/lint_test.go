package lint

import (
	"bufio"
	"bytes"
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/jindou-im/jindou"

// importRules is the project's import graph (docs/ARCHITECTURE.md): the
// core sees only the runtime's interfaces; the simulator's kernel and the
// runtime boundary know nothing of the core; production code imports no
// test package.
var importRules = []ImportRule{
	{From: module + "/node", To: []string{module + "/sim", module + "/chaos", module + "/linearize", module + "/http", module + "/runtime/"},
		Why: "the core sees only the runtime interfaces, never a runtime, checker or transport"},
	{From: module + "/sim", Only: true, To: []string{module + "/node"},
		Why: "the simulator's kernel hosts any runtime.Process and is tested on its own (sim/world builds the core's world on it)"},
	{From: module + "/runtime", To: []string{module + "/node", module + "/sim"},
		Why: "the boundary does not depend on either side of it"},
}

// testPackages are the packages that exist for tests only.
var testPackages = []string{module + "/e2e", module + "/internal/toy", module + "/sim", module + "/scenarios"}

// productionRules keep test packages out of the binary: what cmd/, http/ and
// the production runtime depend on ships.
var productionRules = []ImportRule{
	{From: module + "/cmd", To: testPackages, Why: "production code imports no test package"},
	{From: module + "/http", To: testPackages, Why: "production code imports no test package"},
	{From: module + "/runtime/reactor", To: testPackages, Why: "production code imports no test package"},
}

// leafRules keep the replicated state machine a leaf.
var leafRules = []LeafRule{
	{Pkg: module + "/node/state", Allowed: []string{"github.com/cockroachdb/pebble/v2", module + "/node/proto", module + "/node/internal/invariant"},
		Why: "the state machine is a leaf: the standard library, Pebble, node/proto and the invariants only"},
}

type listedPackage struct {
	Package
	Dir     string
	GoFiles []string
}

// listModule runs `go list` over the whole module.
func listModule(t *testing.T) []listedPackage {
	t.Helper()
	cmd := exec.Command("go", "list", "-json", "./...")
	cmd.Dir = "../.."
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	var pkgs []listedPackage
	dec := json.NewDecoder(bytes.NewReader(out))
	for dec.More() {
		var p listedPackage
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, p)
	}
	return pkgs
}

// corePackages lists node/'s packages and every package of this module
// that node/ imports, by import path.
func corePackages(pkgs []listedPackage) []listedPackage {
	byPath := map[string]listedPackage{}
	inCore := map[string]bool{}
	for _, p := range pkgs {
		byPath[p.ImportPath] = p
		if under(p.ImportPath, module+"/node") {
			inCore[p.ImportPath] = true
			for _, d := range p.Deps {
				if under(d, module) {
					inCore[d] = true
				}
			}
		}
	}
	var out []listedPackage
	for _, path := range sortedKeys(inCore) {
		out = append(out, byPath[path])
	}
	return out
}

// coreFiles lists the non-test Go files of the core's packages.
func coreFiles(pkgs []listedPackage) []string {
	var files []string
	for _, p := range corePackages(pkgs) {
		for _, f := range p.GoFiles {
			files = append(files, filepath.Join(p.Dir, f))
		}
	}
	return files
}

func checkFiles(t *testing.T, files []string) []Violation {
	t.Helper()
	fset := token.NewFileSet()
	var all []Violation
	for _, f := range files {
		vs, err := CheckFile(fset, f, nil)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, vs...)
	}
	return all
}

// treeFiles are the files the tree check reads: the core's, which must
// include node/ itself and the runtime interfaces it sees.
func treeFiles(t *testing.T) []string {
	t.Helper()
	files := coreFiles(listModule(t))
	for _, dir := range []string{"node", "node/proto", "node/state", "runtime"} {
		if !slices.ContainsFunc(files, func(f string) bool { return strings.HasSuffix(filepath.Dir(f), "/"+dir) }) {
			t.Fatalf("the core's files (%d) include none of %s/", len(files), dir)
		}
	}
	return files
}

func TestCoreIsDeterministic(t *testing.T) {
	files := treeFiles(t)
	for _, v := range checkFiles(t, files) {
		t.Errorf("%s", v)
	}
	t.Logf("checked %d files of node/ and its module dependencies", len(files))
}

func TestImportGraphPointsTheRightWay(t *testing.T) {
	var pkgs []Package
	for _, p := range listModule(t) {
		pkgs = append(pkgs, p.Package)
	}
	for _, line := range CheckImports(pkgs, importRules) {
		t.Error(line)
	}
}

func TestProductionImportsNoTestPackage(t *testing.T) {
	var pkgs []Package
	for _, p := range listModule(t) {
		pkgs = append(pkgs, p.Package)
	}
	for _, line := range CheckImports(pkgs, productionRules) {
		t.Error(line)
	}
}

func TestStateMachineIsALeaf(t *testing.T) {
	var pkgs []Package
	found := false
	for _, p := range listModule(t) {
		pkgs = append(pkgs, p.Package)
		found = found || p.ImportPath == module+"/node/state"
	}
	if !found {
		t.Fatal("no package node/state to check")
	}
	for _, line := range CheckLeaves(pkgs, leafRules) {
		t.Error(line)
	}
}

func TestPlantedImportsOfALeafAndOfProductionAreCaught(t *testing.T) {
	leaf := []Package{
		{ImportPath: module + "/node/state", Imports: []string{"fmt", "github.com/cockroachdb/pebble/v2/vfs", module + "/node/proto", module + "/runtime", "go.etcd.io/raft/v3"}},
	}
	if got := CheckLeaves(leaf, leafRules); len(got) != 2 {
		t.Fatalf("want 2 violations (node/state → runtime, → raft), got %q", got)
	}
	prod := []Package{
		{ImportPath: module + "/cmd/jindou", Deps: []string{module + "/node", module + "/e2e"}},
		{ImportPath: module + "/http", Deps: []string{module + "/sim/world"}},
		{ImportPath: module + "/runtime/reactor", Deps: []string{module + "/internal/toy"}},
		{ImportPath: module + "/sim/world", Deps: []string{module + "/node"}},
		{ImportPath: module + "/wkclient", Deps: []string{module + "/node/proto"}},
	}
	if got := CheckImports(prod, append(productionRules, importRules...)); len(got) != 3 {
		t.Fatalf("want 3 violations (cmd → e2e, http → sim/world, reactor → toy) and sim/world → node allowed, got %q", got)
	}
}

// parseDir parses the non-test Go files of one directory.
func parseDir(t *testing.T, fset *token.FileSet, dir string, files []string) []*ast.File {
	t.Helper()
	var out []*ast.File
	for _, name := range files {
		f, err := parser.ParseFile(fset, filepath.Join(dir, name), nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, f)
	}
	return out
}

// msgExempt are the messages allowed to carry a function: apiCall, the
// node's entry from outside (an HTTP handler's or a test's completion, run
// by the API loop on itself and never passed on).
var msgExempt = []string{"apiCall"}

func TestMessagesBetweenLoopsCarryNoFunction(t *testing.T) {
	fset := token.NewFileSet()
	byPath := map[string]listedPackage{}
	for _, p := range listModule(t) {
		byPath[p.ImportPath] = p
	}
	core := byPath[module+"/node"]
	pkg := Source{Path: core.ImportPath, Files: parseDir(t, fset, core.Dir, core.GoFiles)}
	var deps []Source
	for _, d := range core.Deps {
		if p, ok := byPath[d]; ok {
			deps = append(deps, Source{Path: d, Files: parseDir(t, fset, p.Dir, p.GoFiles)})
		}
	}
	if msgs := MessageTypes(fset, pkg, deps); len(msgs) < 10 || !slices.Contains(msgs, "apiCall") {
		t.Fatalf("found only the message types %v in node/: the rule would check nothing", msgs)
	}
	for _, v := range CheckMessages(fset, pkg, deps, msgExempt) {
		t.Error(v)
	}
}

func TestPlantedFunctionsInMessagesAreCaught(t *testing.T) {
	fset := token.NewFileSet()
	path := filepath.Join("testdata", "msgs", "msgs.go")
	pkg := Source{Path: "example.com/msgs", Files: parseDir(t, fset, filepath.Dir(path), []string{filepath.Base(path)})}
	got := CheckMessages(fset, pkg, nil, []string{"exempt"})
	want := wantComments(t, path)
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

func TestPlantedViolationsAreCaught(t *testing.T) {
	path := filepath.Join("testdata", "bad", "bad.go")
	got := checkFiles(t, []string{path})
	want := wantComments(t, path)
	for line, rule := range want {
		found := false
		for _, v := range got {
			if v.Pos.Line == line && strings.Contains(v.Rule, rule) {
				found = true
			}
		}
		if !found {
			t.Errorf("line %d: the planted %q went unreported", line, rule)
		}
	}
	for _, v := range got {
		if _, planted := want[v.Pos.Line]; !planted {
			t.Errorf("unexpected report: %s", v)
		}
	}
}

func TestPlantedViolationInTheCoreFailsTheTreeCheck(t *testing.T) {
	bad := filepath.Join("testdata", "bad", "bad.go")
	got := checkFiles(t, append(treeFiles(t), bad))
	want := wantComments(t, bad)
	for _, v := range got {
		if v.Pos.Filename != bad {
			t.Errorf("the tree itself is not clean: %s", v)
		} else if _, planted := want[v.Pos.Line]; !planted {
			t.Errorf("unexpected report: %s", v)
		}
	}
	if len(got) != len(want) {
		t.Fatalf("the tree check with %s planted among the core's files reported %d violations, want the %d planted", bad, len(got), len(want))
	}
}

func TestAllowedUsesPass(t *testing.T) {
	for _, v := range checkFiles(t, []string{filepath.Join("testdata", "good", "good.go")}) {
		t.Errorf("false positive: %s", v)
	}
}

func TestPlantedImportCycleIsCaught(t *testing.T) {
	pkgs := []Package{
		{ImportPath: module + "/node/gateway", Deps: []string{module + "/runtime", module + "/sim"}},
		{ImportPath: module + "/node/store", Deps: []string{module + "/runtime/reactor"}},
		{ImportPath: module + "/sim", Deps: []string{module + "/node/proto"}},
		{ImportPath: module + "/node/slot", Deps: []string{module + "/runtime"}},
	}
	if got := CheckImports(pkgs, importRules); len(got) != 3 {
		t.Fatalf("want 3 violations (node→sim, node→runtime/reactor, sim→node), got %q", got)
	}
}

// wantComments maps line numbers to the rule their "// want:" comment names.
func wantComments(t *testing.T, path string) map[int]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	want := map[int]string{}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		if _, rule, ok := strings.Cut(sc.Text(), "// want: "); ok {
			want[n] = strings.TrimSpace(rule)
		}
	}
	return want
}
