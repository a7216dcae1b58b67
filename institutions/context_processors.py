def staff(request):
    user = getattr(request, "user", None)
    return {"staff": getattr(user, "staff", None) if user is not None and user.is_authenticated else None}
