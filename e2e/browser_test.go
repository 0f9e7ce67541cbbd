package e2e

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// The browser tests (demo_browser_test.go, admin_browser_test.go) drive
// Debian's headless Chromium with chromedp. `make test` installs chromium
// when it is missing (make chromium); where it cannot be installed these
// tests skip, loudly.

// chromiumPaths are where Chromium is looked for, JINDOU_CHROMIUM first.
var chromiumPaths = []string{os.Getenv("JINDOU_CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser"}

// browserStepTimeout bounds each wait for a page to show something.
const browserStepTimeout = 15 * time.Second

// screenshotDir is where the tests write their screenshots
// (JINDOU_SCREENSHOT_DIR, else test-output/screenshots at the repo root).
func screenshotDir(t *testing.T) string {
	dir := os.Getenv("JINDOU_SCREENSHOT_DIR")
	if dir == "" {
		dir = filepath.Join("..", "test-output", "screenshots")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	abs, _ := filepath.Abs(dir)
	return abs
}

func chromiumPath(t *testing.T) string {
	for _, p := range chromiumPaths {
		if p == "" {
			continue
		}
		if _, err := exec.LookPath(p); err == nil {
			return p
		}
	}
	msg := "\n" + strings.Repeat("!", 72) + "\n!!! SKIPPING THE BROWSER TESTS: no Chromium (looked for " +
		strings.Join(chromiumPaths[1:], ", ") + ", $JINDOU_CHROMIUM).\n!!! Install it with: make chromium (apt-get install chromium)\n" +
		strings.Repeat("!", 72) + "\n"
	fmt.Fprint(os.Stderr, msg)
	t.Skip(msg)
	return ""
}

// browser starts a headless Chromium with a fresh profile; its contexts
// end with the test.
func browser(t *testing.T) context.Context {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.Headless,
		chromedp.NoSandbox, // the tests run as root in CI
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1200, 760),
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)
	root, cancelRoot := chromedp.NewContext(alloc)
	t.Cleanup(cancelRoot)
	if err := chromedp.Do(root); err != nil {
		t.Fatalf("starting chromium: %v", err)
	}
	return root
}

// page opens a new browser context (its own cookies and storage, as a
// second person's browser) on the running Chromium.
func page(t *testing.T, root context.Context) context.Context {
	t.Helper()
	ctx, cancel := chromedp.NewContext(root, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("opening a browser context: %v", err)
	}
	pl := &pageLog{}
	pageLogs.Store(ctx, pl)
	go func() {
		for m, err := range chromedp.Console(ctx) {
			if err != nil {
				return
			}
			if m.IsException() || m.Type == chromedp.ConsoleError || m.Type == chromedp.ConsoleWarning {
				pl.add(m.String())
			}
		}
	}()
	return ctx
}

// pageLog keeps a page's console errors, warnings and exceptions, shown
// when a step on it fails.
type pageLog struct {
	mu    sync.Mutex
	lines []string
}

func (l *pageLog) add(s string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, s)
}

func (l *pageLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

// pageLogs maps a page's context to its *pageLog.
var pageLogs sync.Map

// run runs actions on a page within browserStepTimeout, failing the test
// with what if they fail.
func run(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	step, cancel := context.WithTimeout(ctx, browserStepTimeout)
	defer cancel()
	if err := chromedp.Do(step, actions...); err != nil {
		look, cancelLook := context.WithTimeout(ctx, 5*time.Second)
		defer cancelLook()
		body, _ := chromedp.Run(look, chromedp.Evaluate[string](`document.body ? document.body.innerText : ''`))
		console := ""
		if pl, ok := pageLogs.Load(ctx); ok {
			console = pl.(*pageLog).String()
		}
		t.Fatalf("%s: %v\npage text:\n%s\nconsole errors:\n%s", what, err, body, console)
	}
}

// eval evaluates a JavaScript expression on the page into a T.
func eval[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	step, cancel := context.WithTimeout(ctx, browserStepTimeout)
	defer cancel()
	v, err := chromedp.Run(step, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("evaluating %s: %v", expr, err)
	}
	return v
}

// waitJS waits until the JavaScript expression is true on the page.
func waitJS(expr string) chromedp.Action[chromedp.Void] {
	return chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingInterval(50*time.Millisecond),
		chromedp.WithPollingTimeout(browserStepTimeout))
}

// screenshot writes the page as name.png in screenshotDir.
func screenshot(t *testing.T, ctx context.Context, name string) string {
	t.Helper()
	step, cancel := context.WithTimeout(ctx, browserStepTimeout)
	defer cancel()
	png, err := chromedp.Run(step, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	path := filepath.Join(screenshotDir(t), name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)
	return path
}

// needBundle fails when the binary was built without the demo's script.
func needBundle(t *testing.T, p *proc) {
	t.Helper()
	resp, err := http.Get(p.HTTP + "/demo/demo.js")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /demo/demo.js: %d: the binary lacks the demo's bundle; run bash web/build.sh first (make e2e does)", resp.StatusCode)
	}
}
