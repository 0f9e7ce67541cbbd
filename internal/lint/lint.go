package lint

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"slices"
	"strconv"
	"strings"
)

// Violation is one broken rule at one place.
type Violation struct {
	Pos  token.Position
	Rule string
}

func (v Violation) String() string { return fmt.Sprintf("%s: %s", v.Pos, v.Rule) }

// bannedTime are the time functions that read or wait on the real clock.
var bannedTime = map[string]bool{
	"Now": true, "Since": true, "Until": true, "Sleep": true, "After": true,
	"AfterFunc": true, "Tick": true, "NewTimer": true, "NewTicker": true,
}

// allowedMathRand are the constructors of explicit, seedable generators; every
// other top-level function of math/rand reads the global source.
var allowedMathRand = map[string]bool{
	"New": true, "NewSource": true, "NewPCG": true, "NewChaCha8": true, "NewZipf": true,
	"Rand": true, "Source": true, "PCG": true, "ChaCha8": true, "Zipf": true,
}

// allowedOS are the parts of package os that touch no file or process state:
// error values and file-mode types, so that errors from a vfs.FS can be
// classified.
var allowedOS = map[string]bool{
	"ErrNotExist": true, "ErrExist": true, "ErrClosed": true, "ErrPermission": true,
	"IsNotExist": true, "IsExist": true, "FileMode": true, "ModePerm": true, "ModeDir": true,
	"PathError": true, "FileInfo": true,
}

// bannedLog are the functions of log and log/slog that print to the
// process's stderr or set its default logger; the core logs only through
// runtime.Env's logger.
var bannedLog = map[string]bool{
	"Print": true, "Printf": true, "Println": true, "Fatal": true, "Fatalf": true, "Fatalln": true,
	"Panic": true, "Panicf": true, "Panicln": true, "Output": true, "Default": true, "SetDefault": true,
	"SetOutput": true, "Debug": true, "Info": true, "Warn": true, "Error": true, "Log": true, "LogAttrs": true,
	"DebugContext": true, "InfoContext": true, "WarnContext": true, "ErrorContext": true,
}

// bannedImports are packages the core may not import at all, by why.
var bannedImports = map[string]string{
	"io/ioutil":                "files belong to the runtime",
	"os/exec":                  "processes belong to the runtime",
	"os/signal":                "signals belong to the runtime",
	"syscall":                  "system calls belong to the runtime",
	"unsafe":                   "unsafe memory escapes every rule",
	"golang.org/x/sys/unix":    "system calls belong to the runtime",
	"golang.org/x/sys/windows": "system calls belong to the runtime",
}

// bannedRuntime are the functions of the standard package runtime that
// touch the scheduler, the collector or the process.
var bannedRuntime = map[string]bool{
	"Gosched": true, "GC": true, "Goexit": true, "GOMAXPROCS": true, "NumGoroutine": true, "NumCPU": true,
	"LockOSThread": true, "UnlockOSThread": true, "SetFinalizer": true, "AddCleanup": true, "ReadMemStats": true,
}

// CheckFile parses one Go source file and returns where it breaks the
// determinism rules of the core.
func CheckFile(fset *token.FileSet, path string, src any) ([]Violation, error) {
	f, err := parser.ParseFile(fset, path, src, parser.SkipObjectResolution)
	if err != nil {
		return nil, err
	}
	return checkAST(fset, f), nil
}

func checkAST(fset *token.FileSet, f *ast.File) []Violation {
	var out []Violation
	report := func(n ast.Node, format string, args ...any) {
		out = append(out, Violation{Pos: fset.Position(n.Pos()), Rule: fmt.Sprintf(format, args...)})
	}
	// imports maps the local name of each import to its path.
	imports := map[string]string{}
	for _, imp := range f.Imports {
		path, _ := strconv.Unquote(imp.Path.Value)
		name := path[strings.LastIndex(path, "/")+1:]
		if path == "math/rand/v2" {
			name = "rand"
		}
		if imp.Name != nil {
			name = imp.Name.Name
		}
		imports[name] = path
		if path == "net" || strings.HasPrefix(path, "net/") {
			report(imp, "imports %s: sockets belong to the runtime", path)
		}
		if why, ok := bannedImports[path]; ok {
			report(imp, "imports %s: %s", path, why)
		}
		if imp.Name != nil && imp.Name.Name == "." {
			report(imp, "dot-import of %s: the rules see a package's uses only through its name", path)
		}
	}
	ast.Inspect(f, func(n ast.Node) bool {
		switch x := n.(type) {
		case *ast.GoStmt:
			report(x, "go statement: the core runs on its loop, never on goroutines of its own")
		case *ast.SelectStmt:
			if len(x.Body.List) > 1 {
				report(x, "select with %d cases: its choice is random", len(x.Body.List))
			}
		case *ast.SelectorExpr:
			if id, ok := x.X.(*ast.Ident); ok {
				checkSelector(imports[id.Name], x.Sel.Name, func(rule string) { report(x, "%s", rule) })
			}
			if x.Sel.Name == "GenerateKey" {
				report(x, "GenerateKey reads the global crypto/rand source (Go 1.26 ignores its reader): derive keys from injected bytes with NewPrivateKey")
			}
		}
		return true
	})
	return out
}

func checkSelector(pkg, name string, report func(string)) {
	switch pkg {
	case "time":
		if bannedTime[name] {
			report("time." + name + ": time comes from the injected runtime.Clock")
		}
	case "math/rand", "math/rand/v2":
		if !allowedMathRand[name] {
			report("rand." + name + ": global randomness; use the injected runtime.Rand")
		}
	case "crypto/rand":
		report("crypto/rand." + name + ": randomness comes from the injected runtime.Rand")
	case "os":
		if !allowedOS[name] {
			report("os." + name + ": files and process state belong to the runtime")
		}
	case "runtime":
		if bannedRuntime[name] {
			report("runtime." + name + ": the scheduler and the process belong to the runtime")
		}
	case "log", "log/slog":
		if bannedLog[name] {
			report(pkg + "." + name + ": the core logs only through runtime.Env.Log")
		}
	}
}

// Package is what the import rules need to know of a package.
type Package struct {
	ImportPath string
	Imports    []string
	Deps       []string
}

// ImportRule forbids packages under From (only From itself, with Only) to
// depend, directly or not, on packages under any of To.
type ImportRule struct {
	From string
	Only bool
	To   []string
	Why  string
}

// LeafRule allows the packages under Pkg to import directly only the
// standard library and the packages under Allowed.
type LeafRule struct {
	Pkg     string
	Allowed []string
	Why     string
}

// under reports whether path is pkg or inside it; a pkg ending in "/" means
// only the packages inside it.
func under(path, pkg string) bool {
	if strings.HasSuffix(pkg, "/") {
		return strings.HasPrefix(path, pkg)
	}
	return path == pkg || strings.HasPrefix(path, pkg+"/")
}

// CheckImports returns a line for every package that breaks a rule.
func CheckImports(pkgs []Package, rules []ImportRule) []string {
	var out []string
	for _, p := range pkgs {
		for _, r := range rules {
			if !under(p.ImportPath, r.From) || (r.Only && p.ImportPath != r.From) {
				continue
			}
			for _, dep := range p.Deps {
				if slices.ContainsFunc(r.To, func(to string) bool { return under(dep, to) }) {
					out = append(out, fmt.Sprintf("%s depends on %s: %s", p.ImportPath, dep, r.Why))
				}
			}
		}
	}
	return out
}

// CheckLeaves returns a line for every import that breaks a leaf rule.
func CheckLeaves(pkgs []Package, rules []LeafRule) []string {
	var out []string
	for _, p := range pkgs {
		for _, r := range rules {
			if !under(p.ImportPath, r.Pkg) {
				continue
			}
			for _, imp := range p.Imports {
				std := !strings.Contains(strings.SplitN(imp, "/", 2)[0], ".")
				if std || slices.ContainsFunc(r.Allowed, func(a string) bool { return under(imp, a) }) {
					continue
				}
				out = append(out, fmt.Sprintf("%s imports %s: %s", p.ImportPath, imp, r.Why))
			}
		}
	}
	return out
}
