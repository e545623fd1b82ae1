// Command spike tells a team, before a launch, what breaks first when
// traffic goes viral. See `spike --help`.
package main

import "os"

func main() { os.Exit(Main()) }
