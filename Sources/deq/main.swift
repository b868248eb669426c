import DEQCommandLine

DEQ.runAndExit()
