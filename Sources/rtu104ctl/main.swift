print("rtu104ctl")
