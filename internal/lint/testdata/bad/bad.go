package bad

import (
	"crypto/ecdh"
	crand "crypto/rand"
	"io/ioutil" // want: imports io/ioutil
	"log"
	"log/slog"
	"math/rand"
	"net" // want: imports net
	"os"
	"os/exec"   // want: imports os/exec
	"os/signal" // want: imports os/signal
	"runtime"
	rt "runtime"
	"syscall" // want: imports syscall
	"time"
	. "time" // want: dot-import of time
	"unsafe" // want: imports unsafe
)

func violations(ch1, ch2 chan int) {
	go func() {}()         // want: go statement
	_ = time.Now()         // want: time.Now
	time.Sleep(1)          // want: time.Sleep
	<-time.After(1)        // want: time.After
	_ = time.NewTicker(1)  // want: time.NewTicker
	_ = rand.Intn(3)       // want: rand.Intn
	_, _ = crand.Read(nil) // want: crypto/rand.Read
	_, _ = os.Open("x")    // want: os.Open
	_ = os.Getenv("HOME")  // want: os.Getenv
	_, _ = net.Dial("tcp", "x")
	_, _ = ecdh.X25519().GenerateKey(nil) // want: GenerateKey
	select {                              // want: select with 2 cases
	case <-ch1:
	case <-ch2:
	}
	runtime.Gosched()     // want: runtime.Gosched
	_ = rt.NumGoroutine() // want: runtime.NumGoroutine
	log.Printf("x")       // want: log.Printf
	slog.Info("x")        // want: log/slog.Info
	slog.SetDefault(nil)  // want: log/slog.SetDefault
	_ = Now()
	_, _ = ioutil.ReadFile("x")
	_ = exec.Command("x")
	signal.Ignore()
	_ = syscall.Getpid()
	_ = unsafe.Sizeof(0)
}
