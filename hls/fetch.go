//go:build !js

package hls

import "net/http"

func defaultDoer() Doer { return &http.Client{} }
