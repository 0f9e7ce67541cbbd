package lint

import (
	"bufio"
	"bytes"
	"encoding/json"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

const module = "github.com/jindou-im/jindou"

// importRules is the project's import graph, as DESIGN.md section 2 and 3
// lay it out.
var importRules = []ImportRule{
	{From: module + "/node", To: []string{module + "/sim", module + "/chaos", module + "/linearize", module + "/http", module + "/runtime/"},
		Why: "the core sees only the runtime interfaces, never a runtime, checker or transport"},
	{From: module + "/sim", To: []string{module + "/node"},
		Why: "the simulator hosts any runtime.Process and is tested on its own"},
	{From: module + "/runtime", To: []string{module + "/node", module + "/sim"},
		Why: "the boundary does not depend on either side of it"},
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

// coreFiles lists the non-test Go files of node/ and of every package of
// this module that node/ imports.
func coreFiles(pkgs []listedPackage) []string {
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
	var files []string
	for path := range inCore {
		p := byPath[path]
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

func TestCoreIsDeterministic(t *testing.T) {
	files := coreFiles(listModule(t))
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
	files := append(coreFiles(listModule(t)), filepath.Join("testdata", "bad", "bad.go"))
	if len(checkFiles(t, files)) == 0 {
		t.Fatal("a planted violation among the core's files went unreported")
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
