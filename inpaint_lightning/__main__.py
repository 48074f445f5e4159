from inpaint_lightning.entry import main

main()
