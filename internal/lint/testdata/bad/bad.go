package bad

import (
	"crypto/ecdh"
	crand "crypto/rand"
	"log"
	"log/slog"
	"math/rand"
	"net" // want: imports net
	"os"
	"time"
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
}
