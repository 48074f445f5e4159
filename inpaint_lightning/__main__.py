from inpaint_lightning.cli import main

main()
