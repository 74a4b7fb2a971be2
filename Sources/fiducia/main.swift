import FiduciaCLI

await FiduciaCommand.start()
