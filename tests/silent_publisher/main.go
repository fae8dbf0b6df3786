// A participant who is present but silent, as LiveKit's Go SDK makes one: it publishes an
// Opus track, sends packets for -talk, waits for a line on stdin, then sends nothing at
// all for -silent (the Go SDK sends no packet while nothing is written, as browsers send
// none in DTX silence), then leaves. Prints "published", "talked", "silent", "leaving
// UNIX_NS" (the wall clock, in nanoseconds, just before it leaves) and "left".
//
// Used by tests/livekit/test_rooms.py (built by tests/go_programs.py).
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/livekit/protocol/livekit"
	lksdk "github.com/livekit/server-sdk-go/v2"
	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media"
)

// silence is one 20 ms Opus packet of digital silence (CELT, TOC 0xf8).
var silence = []byte{0xf8, 0xff, 0xfe}

func main() {
	url := flag.String("url", "", "server URL")
	key := flag.String("key", "", "API key")
	secret := flag.String("secret", "", "API secret")
	room := flag.String("room", "", "room name")
	identity := flag.String("identity", "G", "participant identity")
	talk := flag.Duration("talk", time.Second, "how long packets are sent")
	silent := flag.Duration("silent", 5*time.Second, "how long nothing is sent before leaving")
	flag.Parse()

	info := lksdk.ConnectInfo{APIKey: *key, APISecret: *secret, RoomName: *room, ParticipantIdentity: *identity}
	r, err := lksdk.ConnectToRoom(*url, info, lksdk.NewRoomCallback())
	if err != nil {
		fmt.Fprintln(os.Stderr, "connect:", err)
		os.Exit(1)
	}
	codec := webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}
	track, err := webrtc.NewTrackLocalStaticSample(codec, "audio", *identity)
	if err != nil {
		fmt.Fprintln(os.Stderr, "track:", err)
		os.Exit(1)
	}
	options := &lksdk.TrackPublicationOptions{Name: "mic", Source: livekit.TrackSource_MICROPHONE}
	if _, err = r.LocalParticipant.PublishTrack(track, options); err != nil {
		fmt.Fprintln(os.Stderr, "publish:", err)
		os.Exit(1)
	}
	fmt.Println("published")
	ticker := time.NewTicker(20 * time.Millisecond)
	for end := time.Now().Add(*talk); time.Now().Before(end); {
		<-ticker.C
		_ = track.WriteSample(media.Sample{Data: silence, Duration: 20 * time.Millisecond})
	}
	ticker.Stop()
	fmt.Println("talked")
	_, _ = bufio.NewReader(os.Stdin).ReadString('\n')
	fmt.Println("silent")
	time.Sleep(*silent)
	fmt.Println("leaving", time.Now().UnixNano())
	r.Disconnect()
	fmt.Println("left")
}
