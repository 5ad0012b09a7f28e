"""The delivery log (deliveries.Delivery): the admin list and inspector, and /api/deliveries/."""
