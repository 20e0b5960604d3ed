process.stdout.write('running as uid ' + process.getuid() + '\n')
