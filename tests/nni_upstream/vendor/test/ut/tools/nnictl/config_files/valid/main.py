print('my trial')
