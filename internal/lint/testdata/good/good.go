package good

import (
	"errors"
	"math/rand/v2"
	"os"
	"time"
)

func allowed(ch chan int, err error) time.Duration {
	r := rand.New(rand.NewPCG(1, 2))
	_ = r.IntN(3)
	_ = errors.Is(err, os.ErrNotExist)
	select {
	case <-ch:
	}
	return 3 * time.Second
}
