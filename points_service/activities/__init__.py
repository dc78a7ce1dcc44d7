"""Activities (志愿服务活动): sign-up, rotating check-in codes, attendance, and the awards they earn."""
